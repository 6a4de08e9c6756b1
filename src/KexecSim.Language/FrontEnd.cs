using KexecSim.Language.Binding;
using KexecSim.Language.Compilation;
using KexecSim.Language.Diagnostics;
using KexecSim.Language.Loading;
using KexecSim.Language.Syntax;
using KexecSim.Program;

namespace KexecSim.Language;

public sealed record LoadOptions
{
    /// <summary>Directories searched for imports after the importing file's own (--model-path).</summary>
    public IReadOnlyList<string> ModelPath { get; init; } = [];

    public CompileOptions Compile { get; init; } = CompileOptions.Default;

    /// <summary>
    /// Whether an import may name a file outside the model's directory tree and the model path
    /// (--allow-import-outside). Off: such an import is an error (KF0406) and the file is not read.
    /// </summary>
    public bool AllowImportOutside { get; init; }

    /// <summary>Only this scenario is compiled (null: all of them).</summary>
    public string? Scenario { get; init; }

    /// <summary>Ctrl-C or SIGTERM: <see cref="FrontEnd.Load"/> then throws <see cref="OperationCanceledException"/> at once
    /// (the pipeline's thread stops at its next phase and is never waited for).</summary>
    public CancellationToken Cancellation { get; init; }

    public static readonly LoadOptions Default = new();
}

public sealed class FrontEndResult
{
    public required IReadOnlyList<Diagnostic> Diagnostics { get; init; }
    public required IReadOnlyList<CompilationUnit> Units { get; init; }
    public BoundProgram? Program { get; init; }

    /// <summary>One compiled program per scenario (empty when any error was reported).</summary>
    public required IReadOnlyList<CompiledProgram> Scenarios { get; init; }

    public bool HasErrors => Diagnostics.Any(d => d.IsError);
}

/// <summary>The language pipeline: load (lex, parse) → bind → compile each scenario.</summary>
public static class FrontEnd
{
    /// <summary>Stack for the pipeline's thread: recursion is bounded by the parser's limits, and this
    /// leaves a wide margin for them on any platform.</summary>
    private const int StackBytes = 256 * 1024 * 1024;

    /// <summary>Set on a thread started with <see cref="StackBytes"/> of stack: a load there needs no thread of its own.</summary>
    [ThreadStatic]
    private static bool t_onLargeStack;

    /// <summary>How many pipeline threads this thread has started (the tests' view of <see cref="RunOnLargeStack"/>).</summary>
    [ThreadStatic]
    private static int t_threadsStarted;

    internal static int ThreadsStartedByThisThread => t_threadsStarted;

    /// <summary>
    /// Runs <paramref name="work"/> on a thread with the pipeline's stack and returns its result (its exception is
    /// rethrown). Every <see cref="Load"/> and <see cref="LoadText"/> called from inside it runs on that thread
    /// directly instead of starting a thread each: for a caller that loads many models in a row (the fuzzing
    /// harness). There a load's <see cref="LoadOptions.Cancellation"/> is seen at the pipeline's next phase (it
    /// cannot return before the work does). Called from inside itself, it runs <paramref name="work"/> at once.
    /// </summary>
    public static T RunOnLargeStack<T>(Func<T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return OnLargeStack(work, CancellationToken.None);
    }

    /// <summary>Loads one model: a root file and everything it imports (one namespace).</summary>
    public static FrontEndResult Load(string file, LoadOptions? options = null)
    {
        options ??= LoadOptions.Default;
        return OnLargeStack(() =>
        {
            var diagnostics = new DiagnosticBag();
            var loader = new ModelLoader(options.ModelPath, diagnostics, options.AllowImportOutside);
            loader.LoadRoot(file);
            return Finish(loader.Units, diagnostics, options);
        }, options.Cancellation);
    }

    public static FrontEndResult LoadText(string displayPath, string text, LoadOptions? options = null)
    {
        options ??= LoadOptions.Default;
        return OnLargeStack(() =>
        {
            var diagnostics = new DiagnosticBag();
            var loader = new ModelLoader(options.ModelPath, diagnostics, options.AllowImportOutside);
            loader.LoadText(displayPath, text);
            return Finish(loader.Units, diagnostics, options);
        }, options.Cancellation);
    }

    private static FrontEndResult Finish(IReadOnlyList<CompilationUnit> units, DiagnosticBag diagnostics, LoadOptions options)
    {
        options.Cancellation.ThrowIfCancellationRequested();
        var program = Binder.Bind(units, diagnostics);
        var compiled = new List<CompiledProgram>();
        // Scenarios are compiled even after binding errors, so that their own errors (CPU ranges,
        // symmetry) are reported too; nothing compiled from an erroneous model is ever returned.
        {
            var scenarios = program.Scenarios.AsEnumerable();
            if (options.Scenario is { } wanted)
            {
                scenarios = scenarios.Where(s => s.Name == wanted);
                if (!scenarios.Any())
                {
                    diagnostics.Report(DiagnosticCode.UnknownScenario, null, default,
                        $"no scenario named \"{wanted}\"{Spelling.DidYouMean(wanted, program.Scenarios.Select(s => s.Name))}");
                }
            }
            foreach (var scenario in scenarios)
            {
                options.Cancellation.ThrowIfCancellationRequested();
                if (ProgramCompiler.Compile(program, scenario, options.Compile, diagnostics) is { } result)
                {
                    compiled.Add(result);
                }
            }
            if (program.Scenarios.Count == 0)
            {
                // A library file: still lay it out and compile it, so that its errors show.
                ProgramCompiler.Compile(program, null, options.Compile, diagnostics);
            }
        }
        var sorted = diagnostics.ToSortedList();
        return new FrontEndResult
        {
            Diagnostics = sorted,
            Units = units,
            Program = program,
            Scenarios = sorted.Any(d => d.IsError) ? [] : compiled,
        };
    }

    private static T OnLargeStack<T>(Func<T> work, CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        if (t_onLargeStack)
        {
            // Already on a pipeline thread: its stack is the one a new thread would have.
            return work();
        }
        T result = default!;
        Exception? failure = null;
        // Not disposed when the wait is interrupted: the thread still sets it when it ends.
        var done = new ManualResetEventSlim();
        var thread = new Thread(() =>
        {
            t_onLargeStack = true;
            try
            {
                result = work();
            }
            catch (Exception e)
            {
                failure = e;
            }
            finally
            {
                done.Set();
            }
        }, StackBytes)
        {
            // An interrupted load is not waited for: the process may end under it.
            IsBackground = true,
        };
        thread.Start();
        t_threadsStarted++;
        if (!cancellation.CanBeCanceled)
        {
            thread.Join();
        }
        else
        {
            // Interrupted: throws at once; the thread sees the token at its next phase and ends.
            done.Wait(cancellation);
            done.Dispose();
        }
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }
        return result;
    }
}
