using System.CommandLine;
using Boxlite.Cli;

// boxlite: run / ls / inspect / stop / rm / exec / logs / wait / pause / resume / stats / prune / doctor.
// Exit codes: 0 success; 1 bad input, unknown box or refused state change; 125 runtime failure;
// a foreground run and exec return the command's own exit code.
using var interrupts = new Interrupts();
var cli = new BoxliteCommand(interrupts.Token);
ParseResult parse;
try
{
    parse = cli.Parse(args);
}
catch (CliUsageException e)
{
    return ExitCodes.Report(e, debug: false);
}

if (parse.Errors.Count > 0)
{
    await Console.Error.WriteLineAsync($"boxlite: {Say.Printable(parse.Errors[0].Message)}");
    return ExitCodes.BadInput;
}

try
{
    return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
}
catch (Exception e)
{
    return ExitCodes.Report(e, parse.GetValue(BoxliteCommand.DebugOption));
}
