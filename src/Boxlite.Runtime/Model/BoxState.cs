namespace Boxlite.Runtime;

/// <summary>Where a box is in its lifecycle.</summary>
public enum BoxState
{
    /// <summary>Recovery could not classify the box; <see cref="BoxInfo.StatusReason"/> says why.</summary>
    Unknown = 0,

    /// <summary>Record and directory exist; nothing runs yet.</summary>
    Created = 1,

    /// <summary>A runtime is starting the box: preparing its containment and launching its monitor.</summary>
    Starting = 2,

    /// <summary>The box monitor and the command run.</summary>
    Running = 3,

    /// <summary>Every process of the box is frozen.</summary>
    Paused = 4,

    /// <summary>A stop or forced removal is tearing the box down.</summary>
    Stopping = 5,

    /// <summary>The command ended (by itself or by a stop) and the tree is gone.</summary>
    Exited = 6,

    /// <summary>The box could not be started.</summary>
    Failed = 7,
}
