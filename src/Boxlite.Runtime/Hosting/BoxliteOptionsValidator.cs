using Microsoft.Extensions.Options;

namespace Boxlite.Runtime.Hosting;

/// <summary>Validates <see cref="BoxliteOptions"/> (all problems at once).</summary>
internal sealed class BoxliteOptionsValidator : IValidateOptions<BoxliteOptions>
{
    public ValidateOptionsResult Validate(string? name, BoxliteOptions options)
    {
        var problems = options.Validate();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
