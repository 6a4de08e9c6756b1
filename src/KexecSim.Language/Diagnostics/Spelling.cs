namespace KexecSim.Language.Diagnostics;

/// <summary>
/// "Did you mean" suggestions for mistyped names (edit distance, deterministic tie-break). The cost is
/// bounded whatever the input (issue 12): a word longer than <see cref="MaxWordLength"/> gets no
/// suggestion, a candidate whose length differs from the word's by more than the allowed distance is
/// skipped without comparing, and the comparison stops as soon as the distance exceeds it. So one
/// suggestion costs at most about |candidates| + |close candidates| x <see cref="MaxWordLength"/>²
/// steps, and never grows with the length of the word.
/// </summary>
public static class Spelling
{
    /// <summary>Longer words get no suggestion: no name of a real model is this long, and a typo's guess would not help.</summary>
    public const int MaxWordLength = 64;

    /// <summary>The closest candidate within a third of the word's length (ties: the ordinally first), or null.</summary>
    public static string? Suggest(string word, IEnumerable<string> candidates)
    {
        ArgumentNullException.ThrowIfNull(word);
        ArgumentNullException.ThrowIfNull(candidates);
        // Short words get no guesses: 'b' is one edit away from every one-letter name.
        if (word.Length is < 3 or > MaxWordLength)
        {
            return null;
        }
        var limit = Math.Max(1, word.Length / 3);
        var work = FrontEndWork.Current;
        string? best = null;
        var bestDistance = int.MaxValue;
        // PERF: two rows and the row before them, reused for every candidate (no table per comparison).
        Span<int> rows = stackalloc int[3 * (MaxWordLength + MaxWordLength / 3 + 2)];
        foreach (var candidate in candidates)
        {
            if (Math.Abs(candidate.Length - word.Length) > limit || candidate == word)
            {
                continue;
            }
            var distance = BoundedDistance(word, candidate, Math.Min(limit, bestDistance), rows, work);
            if (distance < bestDistance || (distance == bestDistance && string.CompareOrdinal(candidate, best) < 0))
            {
                if (distance <= limit)
                {
                    best = candidate;
                    bestDistance = distance;
                }
            }
        }
        return best;
    }

    /// <summary>The message suffix: <c>; did you mean 'x'?</c> or nothing.</summary>
    public static string DidYouMean(string word, IEnumerable<string> candidates)
    {
        var suggestion = Suggest(word, candidates);
        return Suffix(suggestion);
    }

    /// <summary>The message suffix for a suggestion already found: <c>; did you mean 'x'?</c> or nothing.</summary>
    public static string Suffix(string? suggestion) => suggestion is null ? string.Empty : $"; did you mean '{suggestion}'?";

    /// <summary>Optimal string alignment distance (Levenshtein plus adjacent transpositions), ignoring case.</summary>
    public static int Distance(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var rows = new int[3 * (b.Length + 1)];
        return BoundedDistance(a, b, int.MaxValue - 1, rows, null);
    }

    /// <summary>
    /// The case-insensitive OSA distance of <paramref name="a"/> and <paramref name="b"/> when it is at most
    /// <paramref name="limit"/>, else some value above it: the rows stop as soon as every cell exceeds it.
    /// <paramref name="rows"/> holds three rows of |b| + 1 cells.
    /// </summary>
    private static int BoundedDistance(string a, string b, int limit, Span<int> rows, FrontEndWork? work)
    {
        var width = b.Length + 1;
        var previous2 = rows[..width];
        var previous = rows.Slice(width, width);
        var current = rows.Slice(2 * width, width);
        for (var j = 0; j < width; j++)
        {
            previous[j] = j;
        }
        long cells = width;
        var result = -1;
        for (var i = 1; i <= a.Length && result < 0; i++)
        {
            current[0] = i;
            var rowMin = i;
            var ai = char.ToLowerInvariant(a[i - 1]);
            for (var j = 1; j < width; j++)
            {
                var bj = char.ToLowerInvariant(b[j - 1]);
                var cost = ai == bj ? 0 : 1;
                var d = Math.Min(Math.Min(previous[j] + 1, current[j - 1] + 1), previous[j - 1] + cost);
                if (i > 1 && j > 1 && ai == char.ToLowerInvariant(b[j - 2]) && char.ToLowerInvariant(a[i - 2]) == bj)
                {
                    d = Math.Min(d, previous2[j - 2] + 1);
                }
                current[j] = d;
                rowMin = Math.Min(rowMin, d);
            }
            cells += width;
            if (rowMin > limit)
            {
                // Every alignment already costs more than the limit; later rows only add.
                result = limit + 1;
            }
            var spare = previous2;
            previous2 = previous;
            previous = current;
            current = spare;
        }
        if (work is not null)
        {
            work.SpellingCells += cells;
        }
        return result >= 0 ? result : previous[width - 1];
    }
}
