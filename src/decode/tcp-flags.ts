/**
 * Names for the `tcp-flags` value. AWS reports FIN (1), SYN (2), RST (4) and SYN-ACK (18), OR-ed over the
 * aggregation interval, so 3 is SYN+FIN and 19 is SYN-ACK+FIN; ACK (16) is only reported together with SYN.
 * Other bits are named after the TCP header so that an unexpected value is still readable.
 */
const BIT_NAMES: readonly [number, string][] = [
  [0x01, 'FIN'],
  [0x04, 'RST'],
  [0x08, 'PSH'],
  [0x20, 'URG'],
  [0x40, 'ECE'],
  [0x80, 'CWR'],
];

const SYN = 0x02;
const ACK = 0x10;

const cache: (readonly string[])[] = [];

/** The flag names of a tcp-flags value, e.g. 19 → ['SYN-ACK', 'FIN']. The returned array is shared: do not modify it. */
export function tcpFlagNames(flags: number): readonly string[] {
  if (flags >= 0 && flags < 256) {
    const hit = cache[flags];
    if (hit) return hit;
    return (cache[flags] = Object.freeze(computeNames(flags)));
  }
  return computeNames(flags & 0xff);
}

function computeNames(flags: number): string[] {
  const names: string[] = [];
  if ((flags & (SYN | ACK)) === (SYN | ACK)) names.push('SYN-ACK');
  else if (flags & SYN) names.push('SYN');
  else if (flags & ACK) names.push('ACK');
  for (const [bit, name] of BIT_NAMES) if (flags & bit) names.push(name);
  return names;
}
