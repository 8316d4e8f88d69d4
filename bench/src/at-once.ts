/** Requests the peers keep in flight: 10, as `aws s3 cp` and `gsutil -m` do by default. */
export const AT_ONCE = 10;

/** Runs `work` on every item, {@link AT_ONCE} at a time. */
export async function eachAtOnce<T>(items: readonly T[], work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: AT_ONCE }, worker));
}
