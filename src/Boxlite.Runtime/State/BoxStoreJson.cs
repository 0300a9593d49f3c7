using System.Text.Json.Serialization;

namespace Boxlite.Runtime.State;

/// <summary>
/// The JSON form of <see cref="BoxOptions"/> in the store. Enums are written by name so a reordered enum
/// cannot change a stored box; computed properties (<see cref="BoxLimits.IsEmpty"/>) are not stored.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    IgnoreReadOnlyProperties = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(BoxOptions))]
internal sealed partial class BoxStoreJson : JsonSerializerContext;
