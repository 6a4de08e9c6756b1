using KexecSim.Program;

namespace KexecSim.Machine;

/// <summary>Caches (SEMANTICS.md section 3): entries keyed by (line, key), the key being part of the address; MOESI-style coherence between caches through the per-line directory; write-backs.</summary>
public sealed partial class Machine
{
    /// <summary>Index of the entry with this tag, or the bitwise complement of where it would go.</summary>
    private static int FindEntry(Cache cache, long tag)
    {
        int low = 0, high = cache.Count - 1;
        while (low <= high)
        {
            var mid = (low + high) >> 1;
            var t = cache.TagAt(mid);
            if (t == tag)
            {
                return mid;
            }
            if (t < tag)
            {
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }
        return ~low;
    }

    private static void Put(Cache cache, long tag, long value, bool dirty)
    {
        var index = FindEntry(cache, tag);
        var entry = new CacheEntry { Tag = tag, Value = value, Dirty = dirty };
        if (index >= 0)
        {
            cache[index] = entry;
        }
        else
        {
            cache.Insert(~index, entry);
        }
    }

    /// <summary>A write-back of a dirty entry: memory takes its value and key (SEMANTICS.md section 3).</summary>
    private void WriteBack(Cache cache, int index, bool drop)
    {
        var entry = cache[index];
        _events?.Add(new LineWrittenBack(cache.Index, entry.Line, entry.Key, entry.Value));
        ref var line = ref _state.Lines[entry.Line];
        line.Value = entry.Value;
        line.Key = entry.Key;
        line.Flags = (line.Flags & ~(LineFlags.Poisoned | LineFlags.TdOwned)) | TdxOwnerMark(entry.Key);
        if (drop)
        {
            cache.RemoveAt(index);
        }
        else
        {
            entry.Dirty = false;
            cache[index] = entry;
        }
    }

    /// <summary>What a read of (line, key) sees without this CPU's cache: another cache's copy, else memory.</summary>
    private long ReadThrough(int cacheIndex, long tag, int lineIndex, long key, out bool poisoned)
    {
        poisoned = false;
        var caches = _state.Caches;
        for (var i = _state.NextCacheHolding(lineIndex, 0); i >= 0; i = _state.NextCacheHolding(lineIndex, i + 1))
        {
            if (i == cacheIndex)
            {
                continue;
            }
            var found = FindEntry(caches[i], tag);
            if (found >= 0)
            {
                // MOESI: the owner supplies the data and keeps its copy as it was.
                return caches[i][found].Value;
            }
        }
        ref var line = ref _state.Lines[lineIndex];
        if ((line.Flags & LineFlags.Poisoned) != 0)
        {
            poisoned = true;
            return BuiltinValues.Garbage;
        }
        return line.Key == key ? line.Value : BuiltinValues.Garbage;
    }

    /// <summary>A store of (line, key): coherence drops it from every other cache; it is dirty here.</summary>
    private void CacheStore(int lineIndex, long key, long value)
    {
        var tag = CacheEntry.MakeTag(lineIndex, key);
        var own = Layout.CacheOf(_cpuId);
        var caches = _state.Caches;
        for (var i = _state.NextCacheHolding(lineIndex, 0); i >= 0; i = _state.NextCacheHolding(lineIndex, i + 1))
        {
            if (i == own)
            {
                continue;
            }
            var found = FindEntry(caches[i], tag);
            if (found >= 0)
            {
                caches[i].RemoveAt(found);
            }
        }
        Put(caches[own], tag, value, dirty: true);
    }

    /// <summary>
    /// What a load of (line, key) by this CPU would return now, without its effects (nothing is cached): the old value a
    /// write's step event shows. Only called while a report listens, so never in the search's hot loop.
    /// </summary>
    private long PeekRead(int lineIndex, long key, out bool poisoned) => Read(lineIndex, key, out poisoned, out _);

    /// <summary>A read that caches (line, key) clean when it is not cached here yet.</summary>
    private long CacheRead(int lineIndex, long key, out bool poisoned)
    {
        var value = Read(lineIndex, key, out poisoned, out var index);
        if (index < 0 && !poisoned)
        {
            _state.Caches[Layout.CacheOf(_cpuId)].Insert(~index, new CacheEntry { Tag = CacheEntry.MakeTag(lineIndex, key), Value = value, Dirty = false });
        }
        return value;
    }

    /// <summary>The value a load of (line, key) by this CPU sees: its own cache's entry (<paramref name="index"/> ≥ 0),
    /// else what another cache or memory holds (<paramref name="index"/>: the complement of where it would go).</summary>
    private long Read(int lineIndex, long key, out bool poisoned, out int index)
    {
        var tag = CacheEntry.MakeTag(lineIndex, key);
        var own = _state.Caches[Layout.CacheOf(_cpuId)];
        index = FindEntry(own, tag);
        if (index >= 0)
        {
            poisoned = false;
            return own[index].Value;
        }
        return ReadThrough(Layout.CacheOf(_cpuId), tag, lineIndex, key, out poisoned);
    }

    /// <summary>Writes back a dirty (line, key) from whichever cache holds it, and drops it everywhere.</summary>
    private void FlushEverywhere(long tag, bool writeBack)
    {
        var line = CacheEntry.LineOf(tag);
        for (var i = _state.NextCacheHolding(line, 0); i >= 0; i = _state.NextCacheHolding(line, i + 1))
        {
            var cache = _state.Caches[i];
            var index = FindEntry(cache, tag);
            if (index < 0)
            {
                continue;
            }
            if (writeBack && cache[index].Dirty)
            {
                WriteBack(cache, index, drop: true);
            }
            else
            {
                cache.RemoveAt(index);
            }
        }
    }

    private static int FirstDirty(Cache cache)
    {
        for (var i = 0; i < cache.Count; i++)
        {
            if (cache.DirtyAt(i))
            {
                return i;
            }
        }
        return -1;
    }
}
