namespace Reproductions.Tests;

/// <summary>Fast, self-contained tests of the harness: no training beyond a few steps.</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false)]
public sealed class UnitAttribute() : CategoryAttribute("Unit");

/// <summary>The reduced ('quick') profile of a finding: runs on CPU in CI.</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false)]
public sealed class QuickAttribute() : CategoryAttribute("Quick");

/// <summary>
/// The 'full' profile of a finding: the paper's setup, on a CUDA device. Every Gpu test must also be
/// [Explicit] so that a plain `dotnet test` leaves it out; `dotnet test --filter Category=Gpu` selects it.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false)]
public sealed class GpuAttribute() : CategoryAttribute("Gpu");

/// <summary>
/// The finding a fixture checks, e.g. [Finding("F01")]: its id, written once. It is the NUnit property "Finding", so
/// `dotnet test --filter Finding=F01` selects the fixture, and <see cref="Findings.FindingFixture"/> reads it.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class FindingAttribute(string id) : PropertyAttribute("Finding", id)
{
    public string Id { get; } = id;
}

