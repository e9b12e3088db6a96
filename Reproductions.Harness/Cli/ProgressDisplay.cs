using System.Globalization;
using Reproductions.Harness.Training;
using Spectre.Console;

namespace Reproductions.Harness.Cli;

/// <summary>
/// Shows training progress: a live Spectre.Console display (one bar per run: epoch, loss, accuracies, time left)
/// on an interactive terminal, plain lines otherwise (CI logs, redirected output).
/// </summary>
public static class ProgressDisplay
{
    public static T Run<T>(Func<IProgress<TrainingProgress>, T> work)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
            return work(new PlainProgress(Console.Out));

        T result = default!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                var progress = new SynchronousProgress(p =>
                {
                    if (!tasks.TryGetValue(p.Hash, out var task))
                        tasks[p.Hash] = task = ctx.AddTask(Markup.Escape(p.Label), maxValue: p.TotalEpochs);
                    task.Value = p.Epoch;
                    task.Description = Markup.Escape(Describe(p));
                });
                result = work(progress);
            });
        return result;
    }

    public static string Describe(TrainingProgress p)
    {
        var head = $"{p.Label} [{p.Hash[..8]}] {p.Unit} {p.Epoch}/{p.TotalEpochs}";
        if (p.Last is not { } m) return $"{head} ({p.Status})";
        if (double.IsNaN(m.TestAccuracy))
            return string.Create(CultureInfo.InvariantCulture, $"{head} weight distance {m.WeightDistance:F3} ({m.TrainSeconds + m.EvalSeconds:F1} s/epoch, {p.Status})");
        return string.Create(CultureInfo.InvariantCulture,
            $"{head} loss {m.TrainLoss:F4} train {m.TrainAccuracy:P2} test {m.TestAccuracy:P2} ({m.TrainSeconds + m.EvalSeconds:F1} s/epoch, {p.Status})");
    }

    /// <summary>IProgress that reports on the calling thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class SynchronousProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }

    private sealed class PlainProgress(TextWriter writer) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p)
        {
            if (p.Status == "stored") return; // a result read back, not work: one line each would bury the progress
            var left = p.Last is { } m && p.Epoch < p.TotalEpochs && p.Status == "training"
                ? string.Create(CultureInfo.InvariantCulture, $", about {(m.TrainSeconds + m.EvalSeconds) * (p.TotalEpochs - p.Epoch):F0} s left")
                : "";
            writer.WriteLine(Describe(p) + left);
        }
    }
}
