// Cloudflare Queues' sendBatch takes at most 100 messages and 256 KB in all (each message at most
// 128 KB); a call over either limit fails whole. Producers that send many messages at once split
// them here first.

export const SEND_BATCH_MAX_MESSAGES = 100;
/** Below 256 KB, with room for the per-message framing the size estimate leaves out. */
export const SEND_BATCH_MAX_BYTES = 240_000;
const FRAMING_BYTES = 64;

const encoder = new TextEncoder();

/** The messages in order, cut into sendBatch-sized groups (by count and by serialized size). */
export function sendBatchesOf<M extends { body: unknown }>(
  messages: readonly M[],
  maxBytes = SEND_BATCH_MAX_BYTES,
  maxMessages = SEND_BATCH_MAX_MESSAGES,
): M[][] {
  const groups: M[][] = [];
  let group: M[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = encoder.encode(JSON.stringify(message.body)).length + FRAMING_BYTES;
    if (group.length > 0 && (group.length >= maxMessages || bytes + size > maxBytes)) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(message);
    bytes += size;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}
