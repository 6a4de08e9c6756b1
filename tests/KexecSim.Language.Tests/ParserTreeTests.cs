using KexecSim.Language.Diagnostics;
using KexecSim.Language.Syntax;
using KexecSim.Program;

namespace KexecSim.Language.Tests;

/// <summary>The parser's trees, dumped with spans (line:col-line:col), for representative constructs.</summary>
public sealed class ParserTreeTests
{
    private static string Dump(string text)
    {
        var source = new SourceText("t.kflow", text);
        var diagnostics = new DiagnosticBag();
        var unit = Parser.Parse(source, diagnostics);
        var lines = diagnostics.ToSortedList().Select(d => "// " + d + "\n");
        return string.Concat(lines) + SyntaxTreeDumper.Dump(unit, source);
    }

    [Fact]
    public void Precedence_follows_c()
    {
        const string text = """
            const A = 1 + 2*3 == 7 || !B;
            """;
        const string expected = """
            CompilationUnit 1:1-1:30
              Declarations: ConstDeclaration 1:1-1:30 Name=A
                Value: BinaryExpression 1:11-1:29 Operator=||
                  Left: BinaryExpression 1:11-1:23 Operator===
                    Left: BinaryExpression 1:11-1:18 Operator=+
                      Left: LiteralExpression 1:11-1:12 Token=1
                      Right: BinaryExpression 1:15-1:18 Operator=*
                        Left: LiteralExpression 1:15-1:16 Token=2
                        Right: LiteralExpression 1:17-1:18 Token=3
                    Right: LiteralExpression 1:22-1:23 Token=7
                  Right: UnaryExpression 1:27-1:29 Operator=!
                    Operand: NameExpression 1:28-1:29 Identifier=B

            """;
        Assert.Equal(expected.ReplaceLineEndings("\n"), Dump(text.ReplaceLineEndings("\n")));
    }

    [Fact]
    public void Statements_and_function_header()
    {
        const string text = """
            fn f(int a, cpumask m) -> bool in boot[0] {
                x[1] += a;
                for (int i = 0; i < 2; i++) continue;
                for_each_cpu (c in m) either { hlt(); } or { atomic { y--; } }
                for_each_line (l in next_kernel) store(l, KEY_NONE, 1);
                if (a) return true; else return a > 0 ? true : false;
            }
            """;
        const string expected = """
            CompilationUnit 1:1-8:1
              Declarations: FunctionDeclaration 1:1-7:2 Name=f
                Parameters: Parameter 1:6-1:11 Name=a
                  Type: TypeSyntax 1:6-1:9 Name=int
                Parameters: Parameter 1:13-1:22 Name=m
                  Type: TypeSyntax 1:13-1:20 Name=cpumask
                ReturnType: TypeSyntax 1:27-1:31 Name=bool
                Home: HomeClause 1:32-1:42 Region=boot
                  Index: LiteralExpression 1:40-1:41 Token=0
                Body: BlockStatement 1:43-7:2
                  Statements: AssignmentStatement 2:5-2:15 Operator=+=
                    Target: IndexExpression 2:5-2:9
                      Target: NameExpression 2:5-2:6 Identifier=x
                      Index: LiteralExpression 2:7-2:8 Token=1
                    Value: NameExpression 2:13-2:14 Identifier=a
                  Statements: ForStatement 3:5-3:42
                    Initializer: LocalDeclarationStatement 3:10-3:19
                      Type: TypeSyntax 3:10-3:13 Name=int
                      Declarators: VariableDeclarator 3:14-3:19 Name=i
                        Initializer: LiteralExpression 3:18-3:19 Token=0
                    Condition: BinaryExpression 3:21-3:26 Operator=<
                      Left: NameExpression 3:21-3:22 Identifier=i
                      Right: LiteralExpression 3:25-3:26 Token=2
                    Step: AssignmentStatement 3:28-3:31 Operator=++
                      Target: NameExpression 3:28-3:29 Identifier=i
                    Body: ContinueStatement 3:33-3:42
                  Statements: ForEachCpuStatement 4:5-4:67 Variable=c
                    Mask: NameExpression 4:24-4:25 Identifier=m
                    Body: EitherStatement 4:27-4:67
                      Branches: BlockStatement 4:34-4:44
                        Statements: ExpressionStatement 4:36-4:42
                          Expression: CallExpression 4:36-4:41 Name=hlt
                      Branches: BlockStatement 4:48-4:67
                        Statements: AtomicStatement 4:50-4:65
                          Body: BlockStatement 4:57-4:65
                            Statements: AssignmentStatement 4:59-4:63 Operator=--
                              Target: NameExpression 4:59-4:60 Identifier=y
                  Statements: ForEachLineStatement 5:5-5:60 Variable=l Region=next_kernel
                    Body: ExpressionStatement 5:38-5:60
                      Expression: CallExpression 5:38-5:59 Name=store
                        Arguments: NameExpression 5:44-5:45 Identifier=l
                        Arguments: NameExpression 5:47-5:55 Identifier=KEY_NONE
                        Arguments: LiteralExpression 5:57-5:58 Token=1
                  Statements: IfStatement 6:5-6:58
                    Condition: NameExpression 6:9-6:10 Identifier=a
                    Then: ReturnStatement 6:12-6:24
                      Value: LiteralExpression 6:19-6:23 Token=true
                    Else: ReturnStatement 6:30-6:58
                      Value: ConditionalExpression 6:37-6:57
                        Condition: BinaryExpression 6:37-6:42 Operator=>
                          Left: NameExpression 6:37-6:38 Identifier=a
                          Right: LiteralExpression 6:41-6:42 Token=0
                        WhenTrue: LiteralExpression 6:45-6:49 Token=true
                        WhenFalse: LiteralExpression 6:52-6:57 Token=false

            """;
        Assert.Equal(expected.ReplaceLineEndings("\n"), Dump(text.ReplaceLineEndings("\n") + "\n"));
    }

    [Fact]
    public void Declarations_and_scenario_items()
    {
        const string text = """
            enum V { A, B = 5 }
            region r[2] percpu key KEY_SME;
            region all = text, r;
            handler vector A { loop { hlt(); } }
            scenario "s" {
                platform { vendor amd; cpuid 0x0 = 1, 2 = 3; features SME, SEV; }
                cpu 1..N-1, 3 runs f(1);
                inject smi 1 on 0;
                expect pass;
            }
            """;
        const string expected = """
            CompilationUnit 1:1-11:1
              Declarations: EnumDeclaration 1:1-1:20 Name=V
                Members: EnumMember 1:10-1:11 Name=A
                Members: EnumMember 1:13-1:18 Name=B
                  Value: LiteralExpression 1:17-1:18 Token=5
              Declarations: RegionDeclaration 2:1-2:32 Name=r IsPercpu=True
                Lines: LiteralExpression 2:10-2:11 Token=2
                Key: NameExpression 2:24-2:31 Identifier=KEY_SME
              Declarations: RegionDeclaration 3:1-3:22 Name=all IsPercpu=False
                AliasOf: text
                AliasOf: r
              Declarations: HandlerDeclaration 4:1-4:37 Keyword=handler Kind=Vector
                Vector: NameExpression 4:16-4:17 Identifier=A
                Body: BlockStatement 4:18-4:37
                  Statements: LoopStatement 4:20-4:35
                    Body: BlockStatement 4:25-4:35
                      Statements: ExpressionStatement 4:27-4:33
                        Expression: CallExpression 4:27-4:32 Name=hlt
              Declarations: ScenarioDeclaration 5:1-10:2 Name="s"
                Items: PlatformItem 6:5-6:70 Keyword=platform
                  Entries: PlatformEntry 6:16-6:27 Name=vendor
                    Values: NameExpression 6:23-6:26 Identifier=amd
                  Entries: PlatformEntry 6:28-6:49 Name=cpuid
                    Pairs.Leaf: LiteralExpression 6:34-6:37 Token=0
                    Pairs.Value: LiteralExpression 6:40-6:41 Token=1
                    Pairs.Leaf: LiteralExpression 6:43-6:44 Token=2
                    Pairs.Value: LiteralExpression 6:47-6:48 Token=3
                  Entries: PlatformEntry 6:50-6:68 Name=features
                    Values: NameExpression 6:59-6:62 Identifier=SME
                    Values: NameExpression 6:64-6:67 Identifier=SEV
                Items: RunsItem 7:5-7:29 Keyword=cpu
                  Cpus: CpuRange 7:9-7:15
                    First: LiteralExpression 7:9-7:10 Token=1
                    Last: BinaryExpression 7:12-7:15 Operator=-
                      Left: NameExpression 7:12-7:13 Identifier=N
                      Right: LiteralExpression 7:14-7:15 Token=1
                  Cpus: CpuRange 7:17-7:18
                    First: LiteralExpression 7:17-7:18 Token=3
                  Entry: CallExpression 7:24-7:28 Name=f
                    Arguments: LiteralExpression 7:26-7:27 Token=1
                Items: InjectItem 8:5-8:23 Keyword=inject Fault=smi
                  Budget: LiteralExpression 8:16-8:17 Token=1
                  Cpus: CpuRange 8:21-8:22
                    First: LiteralExpression 8:21-8:22 Token=0
                Items: ExpectItem 9:5-9:17 Keyword=expect Outcome=pass

            """;
        Assert.Equal(expected.ReplaceLineEndings("\n"), Dump(text.ReplaceLineEndings("\n") + "\n"));
    }

    [Fact]
    public void Missing_tokens_become_error_nodes_and_parsing_goes_on()
    {
        const string text = """
            fn f() {
                int x = 1
                x = ;
            }
            """;
        const string expected = """
            // t.kflow:2:14: error KF0101: expected ';' before 'x'
            // t.kflow:3:8: error KF0103: expected an expression before ';'
            CompilationUnit 1:1-5:1
              Declarations: FunctionDeclaration 1:1-4:2 Name=f
                Body: BlockStatement 1:8-4:2
                  Statements: LocalDeclarationStatement 2:5-2:14
                    Type: TypeSyntax 2:5-2:8 Name=int
                    Declarators: VariableDeclarator 2:9-2:14 Name=x
                      Initializer: LiteralExpression 2:13-2:14 Token=1
                  Statements: AssignmentStatement 3:5-3:10 Operator==
                    Target: NameExpression 3:5-3:6 Identifier=x
                    Value: ErrorExpression 3:8-3:8

            """;
        Assert.Equal(expected.ReplaceLineEndings("\n"), Dump(text.ReplaceLineEndings("\n") + "\n"));
    }
}
