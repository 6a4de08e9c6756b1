using KexecSim.Program;

namespace KexecSim.Machine;

/// <summary>WBINVD and WBNOINVD (SEMANTICS.md sections 3 and 4): the CPU enters IN_WBINVD, each dirty entry is a write-back transition of its own (Machine.Transitions.cs), and the last one ends the flush: the cache is dropped (WBINVD), the SEV firmware mark cleared, a pending INIT taken, and the code line fetched again.</summary>
public sealed partial class Machine
{
    private Status StartWbinvd(bool invalidate)
    {
        if (Layout.InGuest && Layout.HasFeature(PlatformFeatures.TdxGuest | PlatformFeatures.SevEs | PlatformFeatures.SevSnp))
        {
            Fail(new Violation(ViolationCode.GuestException, ViolationReason.WbinvdInGuest, _cpuId, null) { Flag = invalidate });
            return Status.Violation;
        }
        _pc++;
        _cpu.Mode = CpuMode.InWbinvd;
        _cpu.Set(CpuFlags.NoInvalidate, !invalidate);
        return Status.Stopped;
    }

    /// <summary>The last dirty entry is written back: the cache is dropped and the CPU fetches again.</summary>
    private Outcome FinishWbinvd()
    {
        var invalidate = !_cpu.Has(CpuFlags.NoInvalidate);
        if (invalidate)
        {
            _state.Caches[Layout.CacheOf(_cpuId)].Clear();
            _cpu.Set(CpuFlags.FirmwareNeedsWbinvd, false);
        }
        _cpu.Set(CpuFlags.NoInvalidate, false);
        _cpu.Mode = CpuMode.Running;
        // An INIT that arrived during the WBINVD takes effect in the step that completes it.
        if (_cpu.Has(CpuFlags.PendingInit) && !InitBlocked(_cpu))
        {
            return ApplyInit(_cpuId) == Status.Violation ? Outcome.Violation : Outcome.Ok;
        }
        if (_cpu.Depth == 0)
        {
            return Outcome.Ok;
        }
        // WBINVD empties the instruction cache too: the code line is fetched again.
        if (FetchViolation(CodeLine()) is { } violation)
        {
            return violation;
        }
        return Normalize();
    }

    /// <summary>A WBINVD inside a scenario block: atomic, the whole flush happens at once.</summary>
    private Outcome FlushAtOnce()
    {
        var cache = _state.Caches[Layout.CacheOf(_cpuId)];
        while (FirstDirty(cache) is var index and >= 0)
        {
            WriteBack(cache, index, drop: false);
        }
        return FinishWbinvd();
    }
}
