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
                    var parameters = new TestCaseParameters([profile, claim.Id]) { TestName = $"{claim.TestName}({profile})" };
                    parameters.Properties.Set(PropertyNames.Description, claim.Statement);
                    parameters.Properties.Add(PropertyNames.Category, profile == FindingProfile.FullProfile ? "Gpu" : "Quick");
                    if (profile == FindingProfile.FullProfile)
                    {
                        parameters.RunState = RunState.Explicit;
                        parameters.Properties.Set(PropertyNames.SkipReason, FindingFixture.FullReason);
                    }
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
}
