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
            var full = FindingProfile.Load(id, FindingProfile.FullProfile);
            foreach (var claim in full.AllClaims)
                foreach (var profile in claim.Profiles)
                {
                    var parameters = ProfileCase(full.QuickTier, profile, [profile, claim.Id], $"{claim.TestName}({profile})");
                    parameters.Properties.Set(PropertyNames.Description, claim.Statement);
                    cases.Add(builder.BuildTestMethod(method, suite, parameters));
                }
        }
        catch (Exception e) when (e is Harness.Training.ConfigException or IOException)
        {
            cases.Add(Unreadable(builder, method, suite, ["quick", "(config)"], "Claims(config unreadable)", e));
        }
        return cases;
    }

    /// <summary>
    /// A case of <paramref name="profile"/> in its test tier (<see cref="FindingProfile.Tier"/>): full in Gpu; quick in the
    /// finding's <paramref name="quickTier"/>, Quick, or Extended (a quick profile CI has no room for). Gpu and Extended are explicit.
    /// </summary>
    public static TestCaseParameters ProfileCase(TestTier quickTier, string profile, object[] arguments, string name)
    {
        var parameters = new TestCaseParameters(arguments) { TestName = name };
        var tier = profile == FindingProfile.FullProfile ? TestTier.Gpu : quickTier;
        parameters.Properties.Add(PropertyNames.Category, tier.Category);
        if (tier.Explicit)
        {
            parameters.RunState = RunState.Explicit;
            parameters.Properties.Set(PropertyNames.SkipReason, tier == TestTier.Gpu ? tier.Reason! : $"{tier.Category} tier: {tier.Reason}; select with --filter Category={tier.Category}");
        }
        return parameters;
    }

    /// <summary>One case that cannot run, with the error of the finding's config as its reason.</summary>
    public static TestMethod Unreadable(NUnitTestCaseBuilder builder, IMethodInfo method, Test? suite, object[] arguments, string name, Exception e)
    {
        var parameters = new TestCaseParameters(arguments) { TestName = name, RunState = RunState.NotRunnable };
        parameters.Properties.Set(PropertyNames.SkipReason, e.Message);
        return builder.BuildTestMethod(method, suite, parameters);
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
        var id = fixture.GetCustomAttribute<FindingAttribute>()?.Id;
        try
        {
            var quickTier = id is null ? TestTier.Quick : FindingProfile.Load(id, FindingProfile.FullProfile).QuickTier;
            return FindingProfile.Profiles.Select(profile =>
                builder.BuildTestMethod(method, suite, ClaimCasesAttribute.ProfileCase(quickTier, profile, [profile], $"{method.Name}({profile})"))).ToList();
        }
        catch (Exception e) when (e is Harness.Training.ConfigException or IOException)
        {
            return [ClaimCasesAttribute.Unreadable(builder, method, suite, ["quick"], $"{method.Name}(config unreadable)", e)];
        }
    }
}
