using System.Reflection;
using NUnit.Framework.Interfaces;
using NUnit.Framework.Internal;
using NUnit.Framework.Internal.Builders;
using Reproductions.Harness.Findings;

namespace Reproductions.Tests.Findings;

/// <summary>
/// Builds one test case per claim and profile of the fixture's finding, from its config (configs/Fxx.json): named like
/// the claim (its id, capitalised), described by its statement; <c>quick</c> cases in category Quick, <c>full</c> cases in
/// category Gpu and explicit. A config that cannot be read gives one case that fails with the error.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class ClaimCasesAttribute : NUnitAttribute, ITestBuilder
{
    private readonly NUnitTestCaseBuilder builder = new();

    public IEnumerable<TestMethod> BuildFrom(IMethodInfo method, Test? suite)
    {
        var fixture = suite?.TypeInfo?.Type ?? method.TypeInfo.Type;
        var id = fixture.GetCustomAttribute<FindingAttribute>()?.Id;
        if (id is null) return [];
        var cases = new List<TestMethod>();
        try
        {
            var claims = FindingProfile.Load(id, FindingProfile.FullProfile).AllClaims;
            foreach (var claim in claims)
                foreach (var profile in claim.Profiles)
                {
                    var parameters = ProfileCase(fixture, profile, [profile, claim.Id], $"{claim.TestName}({profile})");
                    parameters.Properties.Set(PropertyNames.Description, claim.Statement);
                    cases.Add(builder.BuildTestMethod(method, suite, parameters));
                }
        }
        catch (Exception e) when (e is Harness.Training.ConfigException or IOException)
        {
            var parameters = new TestCaseParameters(["quick", "(config)"]) { TestName = "Claims(config unreadable)", RunState = RunState.NotRunnable };
            parameters.Properties.Set(PropertyNames.SkipReason, e.Message);
            cases.Add(builder.BuildTestMethod(method, suite, parameters));
        }
        return cases;
    }

    /// <summary>
    /// A case of <paramref name="fixture"/>'s finding in <paramref name="profile"/>, in the profile's test tier from its config
    /// (<see cref="FindingProfile.Tier"/>): Quick; Extended (a quick profile CI has no room for) or Gpu, both explicit.
    /// </summary>
    public static TestCaseParameters ProfileCase(Type fixture, string profile, object[] arguments, string name)
    {
        var parameters = new TestCaseParameters(arguments) { TestName = name };
        var id = fixture.GetCustomAttribute<FindingAttribute>()?.Id;
        var tier = profile == FindingProfile.FullProfile ? TestTier.Gpu : id is null ? TestTier.Quick : FindingProfile.Load(id, profile).Tier;
        parameters.Properties.Add(PropertyNames.Category, tier.Category);
        if (tier.Explicit)
        {
            parameters.RunState = RunState.Explicit;
            parameters.Properties.Set(PropertyNames.SkipReason, tier == TestTier.Gpu ? FindingFixture.FullReason : $"{tier.Category} tier: {tier.Reason}; select with --filter Category={tier.Category}");
        }
        return parameters;
    }
}

/// <summary>
/// One case per profile (quick, full) of a fixture-level check (its baseline, its figures), in the same categories as its
/// claims (<see cref="ClaimCasesAttribute.ProfileCase"/>).
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class ProfileCasesAttribute : NUnitAttribute, ITestBuilder
{
    private readonly NUnitTestCaseBuilder builder = new();

    public IEnumerable<TestMethod> BuildFrom(IMethodInfo method, Test? suite)
    {
        var fixture = suite?.TypeInfo?.Type ?? method.TypeInfo.Type;
        try
        {
            return FindingProfile.Profiles.Select(profile =>
                builder.BuildTestMethod(method, suite, ClaimCasesAttribute.ProfileCase(fixture, profile, [profile], $"{method.Name}({profile})"))).ToList();
        }
        catch (Exception e) when (e is Harness.Training.ConfigException or IOException)
        {
            var parameters = new TestCaseParameters(["quick"]) { TestName = $"{method.Name}(config unreadable)", RunState = RunState.NotRunnable };
            parameters.Properties.Set(PropertyNames.SkipReason, e.Message);
            return [builder.BuildTestMethod(method, suite, parameters)];
        }
    }
}
