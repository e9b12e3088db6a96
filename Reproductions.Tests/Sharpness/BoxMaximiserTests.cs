using Reproductions.Harness.Statistics;

namespace Reproductions.Tests.Sharpness;

/// <summary>
/// The box maximisers the sharpness measure uses: they never leave the box, never return less than the start's value,
/// hold the evaluation cap, and find a known maximum (a concave quadratic's, inside the box or on its faces).
/// </summary>
[Unit]
public sealed class BoxMaximiserTests
{
    private static readonly double[] Centre = [0.3, -0.7, 0.05, 0.9, -0.2];
    private static readonly double[] Curvature = [1, 4, 0.5, 2, 8];

    /// <summary>-(sum of d_i (y_i - c_i)^2): its maximum is c.</summary>
    private static (double, double[]) Quadratic(double[] y, double[] c) =>
        (-y.Select((v, i) => Curvature[i] * (v - c[i]) * (v - c[i])).Sum(), y.Select((v, i) => -2 * Curvature[i] * (v - c[i])).ToArray());

    private static double[] Fill(double v) => Enumerable.Repeat(v, Centre.Length).ToArray();

    [Test]
    public void Bounded_bfgs_finds_a_quadratics_maximum_inside_the_box()
    {
        var found = BoxMaximiser.BoundedBfgs(y => Quadratic(y, Centre), Fill(-1), Fill(1), Fill(0), maxEvaluations: 100, maxIterations: 50);
        found.Point.Should().Equal(Centre, (a, b) => Math.Abs(a - b) < 1e-6);
        found.Value.Should().BeApproximately(0, 1e-10);
        found.Evaluations.Should().BeLessThanOrEqualTo(100);
    }

    [Test]
    public void Both_find_a_maximum_outside_the_box_on_its_faces()
    {
        double[] outside = [3, -0.5, -4, 0.25, 2]; // the maximum over [-1, 1]^5 is the clamp: [1, -0.5, -1, 0.25, 1]
        double[] expected = [1, -0.5, -1, 0.25, 1];
        var bfgs = BoxMaximiser.BoundedBfgs(y => Quadratic(y, outside), Fill(-1), Fill(1), Fill(0), 200, 100);
        bfgs.Point.Should().Equal(expected, (a, b) => Math.Abs(a - b) < 1e-6);
        var ascent = BoxMaximiser.ProjectedAscent(y => Quadratic(y, outside), Fill(-1), Fill(1), Fill(0), 200);
        ascent.Point.Should().Equal(expected, (a, b) => Math.Abs(a - b) < 1e-3);
        ascent.Value.Should().BeGreaterThan(ascent.StartValue);
    }

    [Test]
    public void Projected_ascent_approaches_an_interior_maximum()
    {
        var found = BoxMaximiser.ProjectedAscent(y => Quadratic(y, Centre), Fill(-1), Fill(1), Fill(0), 200);
        found.Point.Should().Equal(Centre, (a, b) => Math.Abs(a - b) < 1e-3);
    }

    [Test]
    public void Neither_leaves_the_box_and_both_hold_the_evaluation_cap()
    {
        // A steep linear function pulls every coordinate out of the box; the maximisers may only ever ask inside it.
        var lower = new double[] { -1e-3, -2e-3, 0, -5, 1 };
        var upper = new double[] { 1e-3, 2e-3, 1e-9, 5, 1 };
        var start = new double[] { 0, 0, 0, 0, 1 };
        foreach (var method in new Func<Objective, BoxMaximum>[]
                 {
                     f => BoxMaximiser.BoundedBfgs(f, lower, upper, start, 7, 100),
                     f => BoxMaximiser.ProjectedAscent(f, lower, upper, start, 7),
                 })
        {
            var asked = new List<double[]>();
            var found = method(y =>
            {
                asked.Add(y);
                return (y.Select((v, i) => (i + 1) * 1e3 * v).Sum(), y.Select((_, i) => (i + 1) * 1e3).ToArray());
            });
            asked.Should().HaveCountLessThanOrEqualTo(7).And.OnlyContain(y => y.Select((v, i) => lower[i] <= v && v <= upper[i]).All(x => x));
            found.Evaluations.Should().Be(asked.Count);
            found.Point.Select((v, i) => lower[i] <= v && v <= upper[i]).Should().OnlyContain(x => x);
            found.Point.Should().Equal(upper, (a, b) => Math.Abs(a - b) <= 1e-12 * Math.Max(1, Math.Abs(b)), found.Method);
        }
    }

    [Test]
    public void Neither_returns_less_than_the_start()
    {
        // The start is the maximum: whatever the search tries, the start is what comes back.
        foreach (var found in new[]
                 {
                     BoxMaximiser.BoundedBfgs(y => Quadratic(y, Centre), Fill(-1), Fill(1), Centre, 20, 10),
                     BoxMaximiser.ProjectedAscent(y => Quadratic(y, Centre), Fill(-1), Fill(1), Centre, 20),
                 })
        {
            found.Value.Should().BeGreaterThanOrEqualTo(found.StartValue, found.Method);
            found.Point.Should().Equal(Centre);
        }
        var outside = () => BoxMaximiser.ProjectedAscent(y => Quadratic(y, Centre), Fill(-1), Fill(1), Fill(2), 5);
        outside.Should().Throw<ArgumentException>().WithMessage("*start lies outside the box*");
    }
}
