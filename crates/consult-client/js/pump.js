// The one pump of the driver's machines (token session, poller, video session): an input is fed
// and its actions carried out before the next input is; an input that arrives meanwhile (a
// listener calling back into the driver) waits its turn, then the timer is re-armed once.

export class Pump {
  #inbox = [];
  #pumping = false;

  /**
   * @param {(input: any) => void} step feeds one input and carries out the actions it caused
   * @param {() => void} settle runs once the inbox is empty (re-arms the machine's timer)
   */
  constructor(step, settle) {
    this.step = step;
    this.settle = settle;
  }

  /** Feeds `input` (never undefined) now, or after the input being carried out. */
  feed(input) {
    this.#inbox.push(input);
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      for (let next; (next = this.#inbox.shift()) !== undefined; ) this.step(next);
    } finally {
      this.#pumping = false;
    }
    this.settle();
  }
}
