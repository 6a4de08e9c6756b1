using KexecSim.Program;

namespace KexecSim.Machine;

/// <summary>The SEV-SNP firmware (SEMANTICS.md section 6): SNP_INIT, SNP_DECOMMISSION, SNP_DF_FLUSH and SNP_SHUTDOWN_EX with their status codes; the per-CPU "needs WBINVD" marks that WBINVD clears (Machine.Wbinvd.cs).</summary>
public sealed partial class Machine
{
    private Status SevCommand(long command, long argument)
    {
        _pc++;
        long status;
        switch (command)
        {
            case BuiltinValues.SnpInit:
                status = _state.SnpInitialized ? BuiltinValues.InvalidPlatformState : BuiltinValues.SevOk;
                _state.SnpInitialized = true;
                break;
            case BuiltinValues.SnpDecommission:
                {
                    if (!_state.SnpInitialized)
                    {
                        status = BuiltinValues.InvalidPlatformState;
                        break;
                    }
                    var asid = (int)argument;
                    if (asid < 1 || asid >= _state.GuestStates.Length || _state.GuestStates[asid] != MachineState.GuestActive)
                    {
                        status = BuiltinValues.InvalidGuestState;
                        break;
                    }
                    for (var c = 0; c < _state.Cpus.Length; c++)
                    {
                        if (_state.Cpus[c].GuestAsid == asid)
                        {
                            Fail(new Violation(ViolationCode.FirmwareRace, ViolationReason.DecommissionedRunningGuest, _cpuId, null) { Number = asid, Other = c });
                            return Status.Violation;
                        }
                    }
                    _state.GuestStates[asid] = MachineState.GuestDecommissioned;
                    foreach (var cpu in _state.Cpus)
                    {
                        cpu.Set(CpuFlags.FirmwareNeedsWbinvd, true);
                    }
                    _state.NeedsDfFlush = true;
                    status = BuiltinValues.SevOk;
                    break;
                }
            case BuiltinValues.SnpDfFlush:
                if (!_state.SnpInitialized)
                {
                    status = BuiltinValues.InvalidPlatformState;
                }
                else if (_state.AnyNeedsWbinvd())
                {
                    status = BuiltinValues.WbinvdRequired;
                }
                else
                {
                    _state.NeedsDfFlush = false;
                    status = BuiltinValues.SevOk;
                }
                break;
            case BuiltinValues.SnpShutdownEx:
                if (!_state.SnpInitialized)
                {
                    status = BuiltinValues.InvalidPlatformState;
                }
                else if (_state.NeedsDfFlush || _state.GuestStates.IndexOf(MachineState.GuestActive) >= 0)
                {
                    status = BuiltinValues.DfflushRequired;
                }
                else
                {
                    _state.SnpInitialized = false;
                    status = BuiltinValues.SevOk;
                }
                break;
            default:
                Fail(new Violation(ViolationCode.ModelError, ViolationReason.UnknownFirmwareCommand, _cpuId, null) { Number = command });
                return Status.Violation;
        }
        _events?.Add(new FirmwareCommandRun(_cpuId, command, argument, status));
        Push(status);
        return Status.Continue;
    }
}
