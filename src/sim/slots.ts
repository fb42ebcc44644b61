/**
 * A counting semaphore with a FIFO wait list: how a vLLM server holds at most
 * `capacity` sequences in its batch and queues the rest in arrival order.
 */
export class Slots {
  readonly capacity: number;
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get inUse(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Asks for a slot. `ready` resolves once the slot is held; `cancel` withdraws a request
   * that is still waiting (it returns false once the slot was granted: release it instead).
   */
  acquire(): { ready: Promise<void>; cancel: () => boolean } {
    if (this.active < this.capacity) {
      this.active += 1;
      return { ready: Promise.resolve(), cancel: () => false };
    }
    let grant!: () => void;
    const ready = new Promise<void>((resolve) => {
      grant = resolve;
    });
    this.waiting.push(grant);
    return {
      ready,
      cancel: () => {
        const at = this.waiting.indexOf(grant);
        if (at < 0) return false;
        this.waiting.splice(at, 1);
        return true;
      },
    };
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active = Math.max(0, this.active - 1);
  }
}
