// The one pump of the driver's machines (token session, poller, video session): an input is fed
// and its actions carried out before the next input is; an input that arrives meanwhile (a
// listener calling back into the driver) waits its turn, then the timer is re-armed once.

/**
 * The function that feeds an input (never undefined): now, or after the input being carried out.
 * @param {(input: any) => void} step feeds one input and carries out the actions it caused
 * @param {() => void} settle runs once the inbox is empty (re-arms the machine's timer)
 * @returns {(input: any) => void}
 */
export function pump(step, settle) {
  const inbox = [];
  let pumping = false;
  return (input) => {
    inbox.push(input);
    if (pumping) return;
    pumping = true;
    try {
      for (let next; (next = inbox.shift()) !== undefined; ) step(next);
    } finally {
      pumping = false;
    }
    settle();
  };
}
