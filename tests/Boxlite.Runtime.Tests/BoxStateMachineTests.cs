namespace Boxlite.Runtime.Tests;

public sealed class BoxStateMachineTests
{
    [Theory]
    [InlineData(BoxState.Created, BoxState.Starting)]
    [InlineData(BoxState.Starting, BoxState.Running)]
    [InlineData(BoxState.Starting, BoxState.Failed)]
    [InlineData(BoxState.Running, BoxState.Paused)]
    [InlineData(BoxState.Running, BoxState.Stopping)]
    [InlineData(BoxState.Running, BoxState.Exited)]
    [InlineData(BoxState.Paused, BoxState.Running)]
    [InlineData(BoxState.Paused, BoxState.Stopping)]
    [InlineData(BoxState.Stopping, BoxState.Exited)]
    [InlineData(BoxState.Stopping, BoxState.Unknown)]
    [InlineData(BoxState.Unknown, BoxState.Stopping)]
    public void Allowed_transitions_are_allowed(BoxState from, BoxState to) => BoxStateMachine.CanTransition(from, to).Should().BeTrue();

    [Theory]
    [InlineData(BoxState.Exited, BoxState.Running)]
    [InlineData(BoxState.Failed, BoxState.Running)]
    [InlineData(BoxState.Created, BoxState.Exited)]
    [InlineData(BoxState.Created, BoxState.Running)]
    [InlineData(BoxState.Starting, BoxState.Stopping)]
    [InlineData(BoxState.Created, BoxState.Paused)]
    [InlineData(BoxState.Stopping, BoxState.Running)]
    [InlineData(BoxState.Exited, BoxState.Stopping)]
    public void Other_transitions_are_refused_with_a_typed_error(BoxState from, BoxState to)
    {
        BoxStateMachine.CanTransition(from, to).Should().BeFalse();
        var act = () => BoxStateMachine.EnsureTransition(BoxId.New(), from, to);
        act.Should().Throw<InvalidBoxStateException>().Which.State.Should().Be(from);
    }

    [Fact]
    public void Final_states_go_nowhere()
    {
        foreach (var to in Enum.GetValues<BoxState>())
        {
            BoxStateMachine.CanTransition(BoxState.Exited, to).Should().BeFalse();
            BoxStateMachine.CanTransition(BoxState.Failed, to).Should().BeFalse();
        }
    }
}
