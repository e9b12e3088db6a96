using MathNet.Numerics;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Optimization;

namespace Reproductions.Harness.Statistics;

/// <summary>A function to maximise: its value and gradient at a point (one evaluation).</summary>
public delegate (double Value, double[] Gradient) Objective(double[] point);

/// <summary>
/// The best point a maximiser found in its box: never outside the box, and never worse than the start (the start is the
/// first point evaluated). <paramref name="Evaluations"/> counts every call of the objective; <paramref name="Stop"/> says
/// why it ended (converged, the evaluation cap, the iteration cap).
/// </summary>
public sealed record BoxMaximum(double[] Point, double Value, double StartValue, int Evaluations, string Method, string Stop);

/// <summary>
/// Maximising a function over a box <c>lower &lt;= y &lt;= upper</c> under a cap on evaluations, as Keskar et al.'s sharpness
/// needs (they ran 10 iterations of L-BFGS-B). Two methods:
/// <list type="bullet">
/// <item><see cref="BoundedBfgs"/>: MathNet.Numerics' bounded BFGS (<see cref="BfgsBMinimizer"/>, on -f), for small boxes
/// (a random subspace of p = 100 dimensions). MathNet caps iterations, not evaluations, and throws when it reaches its
/// cap: the objective is wrapped so that the evaluation cap holds (it stops the search) and the best point seen is
/// returned whatever ended it.</item>
/// <item><see cref="ProjectedAscent"/>: projected gradient ascent with sign steps scaled to each coordinate's half-width,
/// halving the step when a step does not improve, for the full space (about 1.86 million dimensions, where a dense BFGS
/// is out of the question).</item>
/// </list>
/// </summary>
public static class BoxMaximiser
{
    /// <summary>Bounded BFGS from <paramref name="start"/>, at most <paramref name="maxEvaluations"/> evaluations and <paramref name="maxIterations"/> iterations.</summary>
    public static BoxMaximum BoundedBfgs(Objective f, double[] lower, double[] upper, double[] start, int maxEvaluations, int maxIterations)
    {
        Check(lower, upper, start, maxEvaluations);
        var tracker = new Tracker(f, lower, upper, maxEvaluations);
        var startValue = tracker.Evaluate(start).Value;
        string stop;
        try
        {
            var objective = ObjectiveFunction.Gradient(
                v => tracker.Negated(v.ToArray()).Value,
                v => Vector<double>.Build.DenseOfArray(tracker.Negated(v.ToArray()).Gradient));
            var minimiser = new BfgsBMinimizer(gradientTolerance: 1e-12, parameterTolerance: 1e-14, functionProgressTolerance: 1e-14, maximumIterations: maxIterations);
            var result = minimiser.FindMinimum(objective, Vector<double>.Build.DenseOfArray(lower), Vector<double>.Build.DenseOfArray(upper),
                Vector<double>.Build.DenseOfArray(start));
            stop = $"converged ({result.ReasonForExit}, {result.Iterations} iterations)";
        }
        catch (Exception e) when (e is EvaluationCapReached || e.InnerException is EvaluationCapReached)
        {
            // MathNet's line search wraps what the objective throws (InnerOptimizationException).
            stop = $"evaluation cap ({maxEvaluations})";
        }
        catch (MaximumIterationsException)
        {
            stop = $"iteration cap ({maxIterations})";
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or NonConvergenceException or InnerOptimizationException)
        {
            // MathNet's line search gives up on a flat or non-smooth stretch: what was found so far stands.
            stop = $"line search ended ({e.GetType().Name})";
        }
        return new BoxMaximum(tracker.Best, tracker.BestValue, startValue, tracker.Evaluations, "bounded BFGS (MathNet.Numerics BfgsBMinimizer)", stop);
    }

    /// <summary>
    /// Projected sign-gradient ascent from <paramref name="start"/>: each step moves every coordinate by
    /// <c>step × half-width</c> in the sign of its gradient and projects back into the box; the first step (step 1) goes
    /// to the corner that maximises the linearisation; a step that does not improve is undone and the step halved.
    /// </summary>
    public static BoxMaximum ProjectedAscent(Objective f, double[] lower, double[] upper, double[] start, int maxEvaluations)
    {
        Check(lower, upper, start, maxEvaluations);
        var tracker = new Tracker(f, lower, upper, maxEvaluations);
        var (startValue, gradient) = tracker.Evaluate(start);
        var current = (double[])start.Clone();
        var currentValue = startValue;
        var step = 1.0;
        var stop = $"evaluation cap ({maxEvaluations})";
        while (tracker.Evaluations < maxEvaluations)
        {
            if (gradient.All(g => g == 0)) { stop = "zero gradient"; break; }
            var next = new double[current.Length];
            for (var i = 0; i < next.Length; i++)
            {
                var half = (upper[i] - lower[i]) / 2;
                next[i] = Math.Clamp(current[i] + step * half * Math.Sign(gradient[i]), lower[i], upper[i]);
            }
            var (value, nextGradient) = tracker.Evaluate(next);
            if (value > currentValue)
            {
                (current, currentValue, gradient) = (next, value, nextGradient);
            }
            else
            {
                step /= 2;
                if (step < 1e-6) { stop = "step below 1e-6 of the box"; break; }
            }
        }
        return new BoxMaximum(tracker.Best, tracker.BestValue, startValue, tracker.Evaluations, "projected sign-gradient ascent", stop);
    }

    private static void Check(double[] lower, double[] upper, double[] start, int maxEvaluations)
    {
        if (lower.Length != upper.Length || start.Length != lower.Length)
            throw new ArgumentException($"the box ({lower.Length} and {upper.Length} bounds) and the start ({start.Length}) must have one entry per dimension.");
        for (var i = 0; i < start.Length; i++)
            if (!(lower[i] <= start[i] && start[i] <= upper[i]))
                throw new ArgumentException($"the start lies outside the box at {i}: {start[i]} not in [{lower[i]}, {upper[i]}].");
        if (maxEvaluations < 1) throw new ArgumentOutOfRangeException(nameof(maxEvaluations), maxEvaluations, "at least one evaluation.");
    }

    private sealed class EvaluationCapReached : Exception;

    /// <summary>Counts evaluations, stops at the cap, keeps the best point inside the box (a point outside is clamped first).</summary>
    private sealed class Tracker(Objective f, double[] lower, double[] upper, int cap)
    {
        private double[]? lastPoint;
        private (double Value, double[] Gradient) last;

        public int Evaluations { get; private set; }
        public double[] Best { get; private set; } = [];
        public double BestValue { get; private set; } = double.NegativeInfinity;

        public (double Value, double[] Gradient) Evaluate(double[] point)
        {
            var inside = point.Select((p, i) => Math.Clamp(p, lower[i], upper[i])).ToArray();
            if (lastPoint is not null && inside.AsSpan().SequenceEqual(lastPoint)) return last; // MathNet asks for value and gradient separately
            if (Evaluations >= cap) throw new EvaluationCapReached();
            Evaluations++;
            var (value, gradient) = f(inside);
            if (gradient.Length != inside.Length) throw new InvalidOperationException($"the objective's gradient has {gradient.Length} entries for {inside.Length} dimensions.");
            if (double.IsFinite(value) && value > BestValue) (Best, BestValue) = ((double[])inside.Clone(), value);
            (lastPoint, last) = (inside, (value, gradient));
            return last;
        }

        public (double Value, double[] Gradient) Negated(double[] point)
        {
            var (value, gradient) = Evaluate(point);
            return (-value, gradient.Select(g => -g).ToArray());
        }
    }
}
