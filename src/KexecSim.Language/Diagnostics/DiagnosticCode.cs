namespace KexecSim.Language.Diagnostics;

/// <summary>
/// Every diagnostic the front end can report, with its stable number (KFnnnn).
/// Numbers are never reused or renumbered: a retired code keeps its slot.
/// 0xxx lexical, 1xxx syntax, 2xxx names and types, 3xxx scenarios and static checks,
/// 4xxx loading, 90x limits; warnings are in 8xxx; 95x is coverage after an exhaustive check (notes and
/// warnings about what the run reached, not about the text).
/// </summary>
public enum DiagnosticCode
{
    // Lexical (KF00xx)
    InvalidUtf8 = 1,
    UnexpectedCharacter = 2,
    UnterminatedComment = 3,
    UnterminatedString = 4,
    IntegerLiteralOutOfRange = 5,
    InvalidEscape = 6,
    BinaryFile = 7,
    InvalidNumber = 8,

    // Syntax (KF01xx)
    ExpectedToken = 101,
    UnexpectedToken = 102,
    ExpectedExpression = 103,
    ExpectedDeclaration = 104,
    ExpectedStatement = 105,
    ExpectedType = 106,
    UnknownPlatformItem = 107,
    UnknownScenarioItem = 108,
    InvalidAssignmentTarget = 109,
    EitherNeedsOr = 110,
    ExpectedOnOff = 111,
    StringNotAllowed = 112,

    // Names and types (KF02xx)
    UnknownName = 201,
    DuplicateDeclaration = 202,
    TypeMismatch = 203,
    ArgumentTypes = 204,
    ArgumentCount = 205,
    NotAssignable = 206,
    NotConstant = 207,
    UnknownFunction = 208,
    NotAFunction = 209,
    BreakOutsideLoop = 210,
    ReturnValueMismatch = 211,
    NotARegion = 212,
    NotIndexable = 213,
    BlockingInAtomic = 214,
    UnknownFeature = 215,
    UnknownBug = 216,
    UnknownVendor = 217,
    ConstantOutOfRange = 218,
    DuplicateHandler = 219,
    InvalidRegionSize = 220,
    ConstantCycle = 221,
    DivisionByZeroInConstant = 222,
    UnknownSevCommand = 223,
    VoidValueUsed = 224,
    RecursiveAlias = 225,
    InvalidLineIndex = 227,
    AliasTooDeep = 228,

    // Scenarios and static checks (KF03xx)
    UnknownViolation = 301,
    UndefinedDefine = 302,
    SymmetricDifferentEntry = 303,
    SymmetricComparesCpuId = 304,
    CpuOutOfRange = 305,
    CpuAssignedTwice = 306,
    DuplicateScenario = 307,
    DuplicateScenarioItem = 308,
    InvalidCpuCount = 309,
    EntryArgumentsNotConstant = 310,
    UnknownScenario = 311,
    InvalidCommandLineDefine = 312,
    SymmetricDifferentInit = 313,
    NoScenario = 314,

    // Loading (KF04xx)
    ImportCycle = 401,
    FileNotFound = 402,
    FileTooLarge = 403,
    FileReadError = 404,
    NotARegularFile = 405,
    ImportOutsideModel = 406,
    SymlinkLoop = 407,

    // Warnings (KF08xx)
    UnusedVariable = 801,
    UnreachableCode = 802,
    SymmetryIgnored = 803,
    SymmetryTrivial = 804,
    UnusedValue = 805,
    MissingReturn = 806,
    ShadowsBuiltin = 807,
    DefineNotInEveryModel = 808,
    ImportShadowsFile = 809,

    // Limits (KF09xx)
    NestingTooDeep = 901,
    TooManyErrors = 902,
    ExpressionTooComplex = 903,

    // Coverage after an exhaustive check (KF095x): what the explored runs never reached. The explorer
    // prints these with its own CoverageCode (it does not reference the front end); ArchitectureTests
    // keeps the numbers and severities the same.
    NeverReached = 950,
    HandlerNeverRan = 951,
    StatementsNeverReached = 952,
    WaitNeverCompleted = 953,
    WaitNeverHeld = 954,
}

public enum DiagnosticSeverity
{
    Warning,
    Error,
    /// <summary>Information that never fails a run (coverage listings).</summary>
    Note,
}

public static class DiagnosticCodeExtensions
{
    public static string Format(this DiagnosticCode code) => $"KF{(int)code:D4}";

    public static DiagnosticSeverity DefaultSeverity(this DiagnosticCode code) => code switch
    {
        DiagnosticCode.NeverReached or DiagnosticCode.WaitNeverHeld => DiagnosticSeverity.Note,
        DiagnosticCode.HandlerNeverRan or DiagnosticCode.StatementsNeverReached or DiagnosticCode.WaitNeverCompleted => DiagnosticSeverity.Warning,
        _ => (int)code is >= 800 and < 900 ? DiagnosticSeverity.Warning : DiagnosticSeverity.Error,
    };

    /// <summary>The word printed before the code: <c>error</c>, <c>warning</c> or <c>note</c>.</summary>
    public static string Keyword(this DiagnosticSeverity severity) => severity switch
    {
        DiagnosticSeverity.Error => "error",
        DiagnosticSeverity.Note => "note",
        _ => "warning",
    };
}
