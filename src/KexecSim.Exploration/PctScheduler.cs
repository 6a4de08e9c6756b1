using KexecSim.Machine;

namespace KexecSim.Exploration;

/// <summary>
/// Probabilistic Concurrency Testing (<c>kexecsim simulate --strategy pct</c>): Burckhardt, Kothari,
/// Musuvathi and Nagarakatte, "A Randomized Scheduler with Probabilistic Guarantees of Finding Bugs",
/// ASPLOS 2010. For a bug of depth d in a run of at most k steps among n actors, one run finds it with
/// probability at least 1/(n·k^(d-1)).
/// <list type="bullet">
/// <item><b>Actors.</b> Each CPU is an actor: its steps, the events delivered to it, its timeouts, its WBINVD's
/// write-backs and end. The environment has two more: the evictions (every <see cref="TransitionKind.Evict"/>)
/// and the stray faults it injects (every <see cref="TransitionKind.Inject"/>, whichever CPU it targets), so
/// that n is the CPU count plus two. An environment actor of high priority acts as soon as it can (evicting
/// every dirty entry, injecting its whole fault budget early); of low priority, only when nothing else can.</item>
/// <item><b>Priorities.</b> At the start of a run the actors get the distinct priorities d, d+1, …, d+n-1 in a
/// uniformly random order (a Fisher-Yates shuffle).</item>
/// <item><b>Change points.</b> d-1 steps k_1 … k_(d-1) are drawn independently and uniformly from [1, k]; k is the
/// run-length estimate the simulation gives (<see cref="SimulationOptions.PctSteps"/>). Before step k_i is
/// taken, the actor that would take it (the highest-priority actor with a listed transition) gets
/// priority i, below every initial one; then the step is scheduled again.</item>
/// <item><b>Scheduling.</b> Each step is taken by the highest-priority actor that has a listed transition; among
/// its transitions (a CPU may have a step, a delivery and a timeout), one uniformly at random; a transition
/// that turns out disabled (a false <c>wait_until</c>) is dropped and the actor asked again, so a blocked CPU
/// yields to the next actor. The choices inside a step (<c>either</c>/<c>choose</c>) are uniform.</item>
/// </list>
/// PERF: the priorities and change points are arrays reused across runs; a pick is two passes over the listed
/// transitions, with no allocation.
/// </summary>
internal sealed class PctScheduler : SimulationScheduler
{
    private readonly int _cpus;
    private readonly int _depth;
    private readonly long _steps;
    private readonly int[] _priority;
    private readonly long[] _changePoints;
    private RunRandom _random = null!;
    private long _lastStep;

    /// <param name="cpus">The CPU count; the actors are the CPUs, the evictions and the injections.</param>
    /// <param name="depth">The bug depth d (<c>--pct-depth</c>), at least 1.</param>
    /// <param name="steps">The run-length estimate k the change points are drawn over, at least 1.</param>
    public PctScheduler(int cpus, int depth, long steps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        _cpus = cpus;
        _depth = depth;
        _steps = steps;
        _priority = new int[cpus + 2];
        _changePoints = new long[depth - 1];
    }

    /// <summary>The actor of the eviction transitions.</summary>
    private int Evictions => _cpus;

    /// <summary>The actor of the fault injections.</summary>
    private int Injections => _cpus + 1;

    /// <summary>The actor that takes <paramref name="transition"/>.</summary>
    private int ActorOf(in Transition transition) => transition.Kind switch
    {
        TransitionKind.Evict => Evictions,
        TransitionKind.Inject => Injections,
        _ => transition.Cpu,
    };

    /// <summary>The current priority of each actor (for tests).</summary>
    internal ReadOnlySpan<int> Priorities => _priority;

    /// <summary>The change points of the run (for tests).</summary>
    internal ReadOnlySpan<long> ChangePoints => _changePoints;

    public override void StartRun(RunRandom random)
    {
        _random = random;
        _lastStep = 0;
        for (var a = 0; a < _priority.Length; a++)
        {
            _priority[a] = _depth + a;
        }
        // Fisher-Yates: a uniformly random assignment of d .. d+n-1.
        for (var a = _priority.Length - 1; a > 0; a--)
        {
            var j = random.Next(a + 1);
            (_priority[a], _priority[j]) = (_priority[j], _priority[a]);
        }
        for (var i = 0; i < _changePoints.Length; i++)
        {
            _changePoints[i] = random.NextStep(_steps);
        }
    }

    public override int Pick(MachineState state, List<Transition> candidates, long step)
    {
        if (step != _lastStep)
        {
            _lastStep = step;
            for (var i = 0; i < _changePoints.Length; i++)
            {
                if (_changePoints[i] == step)
                {
                    _priority[Highest(candidates, out _)] = i + 1;
                }
            }
        }
        var actor = Highest(candidates, out var count);
        var chosen = count == 1 ? 0 : _random.Next(count);
        for (var t = 0; t < candidates.Count; t++)
        {
            if (ActorOf(candidates[t]) == actor && chosen-- == 0)
            {
                return t;
            }
        }
        throw new InvalidOperationException("the highest-priority actor has no candidate");
    }

    /// <summary>The highest-priority actor with a candidate, and how many candidates it has.</summary>
    private int Highest(List<Transition> candidates, out int count)
    {
        var best = -1;
        var bestPriority = int.MinValue;
        count = 0;
        for (var t = 0; t < candidates.Count; t++)
        {
            var actor = ActorOf(candidates[t]);
            var priority = _priority[actor];
            if (priority > bestPriority)
            {
                best = actor;
                bestPriority = priority;
                count = 1;
            }
            else if (actor == best)
            {
                count++;
            }
        }
        return best;
    }
}
