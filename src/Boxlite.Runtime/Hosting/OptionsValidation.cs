using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Boxlite.Runtime.Hosting;

/// <summary>Settings validated when the host starts, every problem reported at once.</summary>
internal static class OptionsValidation
{
    /// <summary>Adds the options <typeparamref name="T"/>, checked by <paramref name="validate"/> on start (registered once).</summary>
    public static OptionsBuilder<T> AddValidatedOptions<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] T>(
        this IServiceCollection services, Func<T, IReadOnlyList<string>> validate)
        where T : class
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<T>>(new Validator<T>(validate)));
        return services.AddOptions<T>().ValidateOnStart();
    }

    private sealed class Validator<T>(Func<T, IReadOnlyList<string>> validate) : IValidateOptions<T>
        where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            var problems = validate(options);
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}
