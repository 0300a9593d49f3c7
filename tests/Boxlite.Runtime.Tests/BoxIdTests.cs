namespace Boxlite.Runtime.Tests;

public sealed class BoxIdTests
{
    [Fact]
    public void A_new_id_has_the_fixed_length_and_alphabet()
    {
        var id = BoxId.New();
        id.Value.Should().HaveLength(BoxId.Length).And.MatchRegex("^[a-z0-9]+$");
        BoxId.Parse(id.Value).Should().Be(id);
    }

    [Theory]
    [InlineData("")]
    [InlineData("..")]
    [InlineData("../../etc/passwd")]
    [InlineData("abcdefgh/jklmnop")]
    [InlineData("abcdefgh\\jklmnop")]
    [InlineData("abcdefgh jklmnop")]
    [InlineData("abcdefgh\0jklmnop")]
    [InlineData("ABCDEFGHIJKLMNOP")]
    [InlineData("аbcdefghijklmnop")] // Cyrillic a
    [InlineData("abcdefghijklmnop\n")]
    [InlineData("abcdefghijklmno")]
    [InlineData("abcdefghijklmnopq")]
    public void Parsing_rejects_anything_outside_the_alphabet_and_length(string text)
    {
        var act = () => BoxId.Parse(text);
        act.Should().Throw<InvalidBoxIdException>();
    }

    [Fact]
    public void Parsing_rejects_null_and_huge_strings()
    {
        ((Action)(() => BoxId.Parse(null))).Should().Throw<InvalidBoxIdException>();
        ((Action)(() => BoxId.Parse(new string('a', 10_000)))).Should().Throw<InvalidBoxIdException>();
    }
}
