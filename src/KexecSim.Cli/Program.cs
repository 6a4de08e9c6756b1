namespace KexecSim.Cli;

public static class Program
{
    public static int Main(string[] args) => KexecSimCli.Run(args, Console.Out, Console.Error);
}
