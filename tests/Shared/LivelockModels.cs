namespace KexecSim.Tests;

/// <summary>Models with cycles that several test classes check LIVELOCK on (one text each, shared by the test projects).</summary>
public static class LivelockModels
{
    /// <summary>A fair cycle: a spin a halted CPU never ends.</summary>
    public const string Spinner = """
        shared bool flag;
        fn spinner() { while (!flag) { udelay(1); } done(); }
        fn other() { loop { hlt(); } }
        scenario "s" { platform { cpus 2; } cpu 0 runs spinner(); cpu 1 runs other(); expect LIVELOCK; }
        """;

    /// <summary>Interrupts, an injected NMI and evictions around the cycle (deliveries strongly fair).</summary>
    public const string InterruptsNmiEvictions = """
        enum V { KICK = 0x40 }
        shared bool kicked;
        shared int n;
        handler vector KICK { n = 1; }
        handler nmi { n = 2; }
        fn boss() { send_ipi(1, KICK); wait_until(kicked); done(); }
        fn toggler() { loop { local_irq_disable(); udelay(1); local_irq_enable(); udelay(2); } }
        fn spin() { loop { udelay(1); } }
        scenario "s" { platform { cpus 3; evictions on; } cpu 0 runs boss(); cpu 1 runs toggler(); cpu 2 runs spin(); inject nmi 1 on 2; timeouts off; expect LIVELOCK; }
        """;

    /// <summary>A choice made before the cycle: two components of unfinished states.</summary>
    public const string TwoComponents = """
        shared int x;
        shared int y;
        fn a() { loop { x = 1; x = 0; } }
        fn b() { either { y = 1; } or { y = 2; } wait_until(x == 2); done(); }
        scenario "s" { platform { cpus 2; } cpu 0 runs a(); cpu 1 runs b(); timeouts off; expect LIVELOCK; }
        """;

    /// <summary>A cycle the reduced graph shows (the untracked line's write-backs merged away) before the full one.</summary>
    public const string ReducedGraphCycle = """
        region vars[1];
        region next_kernel = text;
        shared int a in vars[0];
        fn main() {
            loop { a = 1; }
        }
        scenario "s" {
            platform { vendor intel; cpus 1; }
            cpu 0 runs main();
            expect LIVELOCK;
        }
        """;
}
