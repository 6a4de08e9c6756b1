namespace KexecSim.Exploration;

/// <summary>
/// The visited set: 64-bit state fingerprints in an open-addressing table mapping each to its node id.
/// PERF: two flat arrays, linear probing, no allocation per insert (12 bytes per slot).
/// </summary>
public sealed class FingerprintSet
{
    private ulong[] _keys;
    private int[] _values;
    private int _mask;

    public FingerprintSet(int capacityPowerOfTwo = 1 << 16)
    {
        _keys = new ulong[capacityPowerOfTwo];
        _values = new int[capacityPowerOfTwo];
        _mask = capacityPowerOfTwo - 1;
    }

    public int Count { get; private set; }

    public long MemoryBytes => (long)_keys.Length * (sizeof(ulong) + sizeof(int));

    /// <summary>Adds a fingerprint; false (with the existing id) when it was already there.</summary>
    public bool TryAdd(ulong fingerprint, int value, out int existing)
    {
        if (fingerprint == 0)
        {
            fingerprint = 1; // 0 marks an empty slot
        }
        if (Count * 10 >= _keys.Length * 7)
        {
            Grow();
        }
        var index = (int)(Mix(fingerprint) & (ulong)_mask);
        while (true)
        {
            var key = _keys[index];
            if (key == 0)
            {
                _keys[index] = fingerprint;
                _values[index] = value;
                Count++;
                existing = value;
                return true;
            }
            if (key == fingerprint)
            {
                existing = _values[index];
                return false;
            }
            index = (index + 1) & _mask;
        }
    }

    private static ulong Mix(ulong x) => x ^ (x >> 29);

    private void Grow()
    {
        var oldKeys = _keys;
        var oldValues = _values;
        _keys = new ulong[oldKeys.Length * 2];
        _values = new int[oldKeys.Length * 2];
        _mask = _keys.Length - 1;
        for (var i = 0; i < oldKeys.Length; i++)
        {
            var key = oldKeys[i];
            if (key == 0)
            {
                continue;
            }
            var index = (int)(Mix(key) & (ulong)_mask);
            while (_keys[index] != 0)
            {
                index = (index + 1) & _mask;
            }
            _keys[index] = key;
            _values[index] = oldValues[i];
        }
    }
}
