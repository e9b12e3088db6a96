using Reproductions.Harness.Reporting;
using Reproductions.Tests.Findings;

namespace Reproductions.Tests.Reporting;

[Unit]
public sealed class VerdictStoreTests
{
    private string _root = "";

    [SetUp]
    public void CreateRoot() => _root = Directory.CreateTempSubdirectory("verdicts-").FullName;

    [TearDown]
    public void DeleteRoot() => Directory.Delete(_root, recursive: true);

    [Test]
    public void A_check_that_no_longer_exists_is_dropped_when_its_finding_records_again()
    {
        var store = new VerdictStore(_root);
        store.Record("full", "F99", "Old_name", "failed", "stale");
        store.Record("full", "F99", "Kept", "passed", "");

        store.Record("full", "F99", "New_name", "passed", "measured", current: ["Kept", "New_name"]);

        store.Load("full", "F99")!.Checks.Select(c => c.Name).Should().Equal("Kept", "New_name");
    }

    [Test]
    public void Without_the_current_checks_nothing_else_is_dropped()
    {
        var store = new VerdictStore(_root);
        store.Record("quick", "F99", "A", "passed", "");
        store.Record("quick", "F99", "B", "failed", "why");
        store.Record("quick", "F99", "B", "passed", "");

        store.Load("quick", "F99")!.Checks.Select(c => (c.Name, c.Outcome)).Should().Equal(("A", "passed"), ("B", "passed"));
    }

    [Test]
    public void A_fixtures_checks_are_its_test_methods_with_a_case_for_the_profile()
    {
        FindingFixture.ChecksOf(typeof(AdamTravelsFartherAndGeneralizesWorse), "full").Should().BeEquivalentTo(
            "Adam_moves_at_least_ten_times_farther_than_SGD", "Adam_ends_with_lower_test_accuracy",
            "Adam_lower_test_accuracy_is_under_fitting_not_a_larger_gap", "Adam_distance_grows_closer_to_linearly_than_SGD",
            "Matches_its_baseline");
        FindingFixture.ChecksOf(typeof(AdamTravelsFartherAndGeneralizesWorse), "quick").Should().Contain("Adam_has_the_larger_generalization_gap")
            .And.NotContain("Adam_ends_with_lower_test_accuracy");
    }
}
