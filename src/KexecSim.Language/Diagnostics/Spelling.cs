namespace KexecSim.Language.Diagnostics;

/// <summary>"Did you mean" suggestions for mistyped names (edit distance, deterministic tie-break).</summary>
public static class Spelling
{
    public static string? Suggest(string word, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        // Short words get no guesses: 'b' is one edit away from every one-letter name.
        var limit = word.Length < 3 ? 0 : Math.Max(1, word.Length / 3);
        foreach (var candidate in candidates.OrderBy(c => c, StringComparer.Ordinal))
        {
            if (candidate == word)
            {
                continue;
            }
            var distance = Distance(word.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (distance < bestDistance && distance <= limit)
            {
                best = candidate;
                bestDistance = distance;
            }
        }
        return best;
    }

    /// <summary>The message suffix: <c>; did you mean 'x'?</c> or nothing.</summary>
    public static string DidYouMean(string word, IEnumerable<string> candidates)
    {
        var suggestion = Suggest(word, candidates);
        return suggestion is null ? string.Empty : $"; did you mean '{suggestion}'?";
    }

    /// <summary>Optimal string alignment distance (Levenshtein plus adjacent transpositions).</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }
        return d[a.Length, b.Length];
    }
}
