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
            foreach (var full in Datasets(id))
                foreach (var claim in full.AllClaims)
                    foreach (var profile in claim.Profiles)
                    {
                        var parameters = ProfileCase(full, profile, [profile, claim.Id, full.Dataset], claim.TestName);
                        parameters.Properties.Set(PropertyNames.Description, claim.Statement);
                        cases.Add(builder.BuildTestMethod(method, suite, parameters));
                    }
        }
        catch (Exception e) when (e is Harness.Training.ConfigException or IOException)
        {
            cases.Add(Unreadable(builder, method, suite, ["quick", "(config)", "(config)"], "Claims(config unreadable)", e));
        }
        return cases;
    }

    /// <summary>The finding's full profile on every dataset the harness knows, the paper's first.</summary>
    public static IEnumerable<FindingProfile> Datasets(string finding) =>
        Harness.Data.DatasetSpecs.All.Select(d => FindingProfile.Load(finding, FindingProfile.FullProfile, dataset: d.Name))
            .OrderBy(p => p.OnPaperDataset ? 0 : 1).ToList();

    /// <summary>
    /// A case of <paramref name="profile"/> on <paramref name="full"/>'s dataset in its test tier (<see cref="FindingProfile.Tier"/>):
    /// full in Gpu; quick in the finding's quick tier on that dataset, Quick, or Extended (a quick profile CI has no room
    /// for). Gpu and Extended are explicit. Named "<paramref name="name"/>(profile)" on the paper's dataset, and
    /// "<paramref name="name"/>(profile, dataset)" on another, with the property Dataset (<c>--filter Dataset=fashion-mnist</c>).
    /// </summary>
    public static TestCaseParameters ProfileCase(FindingProfile full, string profile, object[] arguments, string name)
    {
        var parameters = new TestCaseParameters(arguments) { TestName = full.OnPaperDataset ? $"{name}({profile})" : $"{name}({profile}, {full.Dataset})" };
        parameters.Properties.Set("Dataset", full.Dataset);
        var tier = profile == FindingProfile.FullProfile ? TestTier.Gpu : full.QuickTier;
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
        if (id is null) return [];
        try
        {
            return ClaimCasesAttribute.Datasets(id).SelectMany(full => FindingProfile.Profiles.Select(profile =>
                builder.BuildTestMethod(method, suite, ClaimCasesAttribute.ProfileCase(full, profile, [profile, full.Dataset], method.Name)))).ToList();
        }
        catch (Exception e) when (e is Harness.Training.ConfigException or IOException)
        {
            return [ClaimCasesAttribute.Unreadable(builder, method, suite, ["quick", "(config)"], $"{method.Name}(config unreadable)", e)];
        }
    }
}
