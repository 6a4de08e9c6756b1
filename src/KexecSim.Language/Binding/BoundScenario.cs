using KexecSim.Language.Syntax;
using KexecSim.Program;

namespace KexecSim.Language.Binding;

/// <summary>A CPU list element whose bounds are constant expressions (evaluated per scenario instance).</summary>
public sealed record BoundCpuRange(TextSpan Span, BoundExpression First, BoundExpression? Last);

public sealed record BoundRuns(TextSpan Span, IReadOnlyList<BoundCpuRange> Cpus, FunctionSymbol Entry, IReadOnlyList<BoundExpression> Arguments);

public sealed record BoundInitCpu(TextSpan Span, IReadOnlyList<BoundCpuRange> Cpus, FunctionSymbol Body);

public sealed record BoundInject(TextSpan Span, FaultKind Fault, BoundExpression Budget, IReadOnlyList<BoundCpuRange>? Cpus);

public sealed record BoundDefine(TextSpan Span, ConstSymbol Constant, BoundExpression Value);

/// <summary>The platform block as bound expressions; values are fixed when the scenario is instantiated.</summary>
public sealed class BoundPlatform
{
    public Vendor Vendor { get; set; } = Vendor.Intel;
    public BoundExpression? Cpus { get; set; }
    public BoundExpression? Bsp { get; set; }
    public List<string> Features { get; } = [];
    public List<string> Bugs { get; } = [];
    public List<(BoundExpression Leaf, BoundExpression Value)> Cpuid { get; } = [];
    public BoundExpression? SmeActive { get; set; }
    public BoundExpression? NextSmeActive { get; set; }
    public CacheTopology Cache { get; set; } = CacheTopology.Private;
    public bool Evictions { get; set; } = true;
    public BoundExpression? SnpGuests { get; set; }
    public BoundExpression? WbinvdMicroseconds { get; set; }
    public TextSpan CpusSpan { get; set; }
}

public sealed class BoundScenario(string name, SourceText source, ScenarioDeclaration declaration)
{
    public string Name { get; } = name;
    public SourceText Source { get; } = source;
    public ScenarioDeclaration Declaration { get; } = declaration;
    public string Description { get; set; } = string.Empty;
    public BoundPlatform Platform { get; } = new();
    public List<BoundDefine> Defines { get; } = [];
    public FunctionSymbol? Init { get; set; }
    public List<BoundInitCpu> InitCpus { get; } = [];
    public List<BoundRuns> Runs { get; } = [];
    public IReadOnlyList<BoundCpuRange>? Symmetric { get; set; }
    public TextSpan SymmetricSpan { get; set; }
    public bool Timeouts { get; set; } = true;
    public List<BoundInject> Injects { get; } = [];
    public FunctionSymbol? Final { get; set; }
    public Expectation Expect { get; set; } = Expectation.None;
}

/// <summary>Everything the binder produced from the loaded files.</summary>
public sealed class BoundProgram
{
    public required IReadOnlyList<ConstSymbol> Constants { get; init; }

    /// <summary>The consts again, each after the consts its value uses (so that values are found in one pass).</summary>
    public IReadOnlyList<ConstSymbol> ConstantsByDependency { get; init; } = [];

    public required IReadOnlyList<EnumSymbol> Enums { get; init; }
    public required IReadOnlyList<RegionSymbol> Regions { get; init; }
    public required IReadOnlyList<GlobalVariableSymbol> Variables { get; init; }

    /// <summary>Functions and handlers in declaration order (scenario blocks are in their scenarios).</summary>
    public required IReadOnlyList<FunctionSymbol> Functions { get; init; }
    public required IReadOnlyList<FunctionSymbol> Handlers { get; init; }
    public required IReadOnlyList<BoundScenario> Scenarios { get; init; }
    public required IReadOnlyDictionary<string, Symbol> Globals { get; init; }
}
