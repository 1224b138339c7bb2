//! The one pump of the driver's three executors (token session, poller, video session): an
//! input is handed to the machine and every action it causes is carried out before the next
//! input is handed over. An input fed meanwhile — a listener, or an I/O answered at once,
//! calling back into the driver — waits its turn in the inbox: no machine is borrowed while an
//! action runs, and inputs reach the machine in the order they came (ARCHITECTURE.md, "Writing
//! a driver", rule 4). The JavaScript executors have the same pump (`js/pump.js`).
//!
//! ```ignore
//! let pump = Pump::new(machine);
//! let drained = pump.feed(|m, now| m.handle(now, input), || clock(), |action| perform(action));
//! if drained { arm_timer(pump.machine().poll_timeout()) }
//! ```

use std::cell::{Cell, Ref, RefCell, RefMut};
use std::collections::VecDeque;

use consult_core::connection::SocketConnection;
use consult_core::poll_machine::{PollMachine, PollOutput};
use consult_core::session::{Action, Now, TokenSession};

/// What the pump needs of a machine: its clock's type and its next action.
pub(crate) trait Machine {
    /// What "now" is to this machine.
    type Now;
    /// What it asks the driver to do.
    type Action;
    /// The next action, if any.
    fn poll_action(&mut self) -> Option<Self::Action>;
}

impl Machine for TokenSession {
    type Now = Now;
    type Action = Action;
    fn poll_action(&mut self) -> Option<Action> {
        TokenSession::poll_action(self)
    }
}

impl Machine for PollMachine {
    type Now = i64;
    type Action = PollOutput;
    fn poll_action(&mut self) -> Option<PollOutput> {
        PollMachine::poll_action(self)
    }
}

impl Machine for SocketConnection {
    type Now = i64;
    type Action = consult_core::connection::Action;
    fn poll_action(&mut self) -> Option<Self::Action> {
        SocketConnection::poll_action(self)
    }
}

/// One input waiting for the machine: what to hand it, at the time it is handed over.
type Step<M> = Box<dyn FnOnce(&mut M, <M as Machine>::Now)>;

/// A machine and the inputs waiting for it.
pub(crate) struct Pump<M: Machine> {
    machine: RefCell<M>,
    inbox: RefCell<VecDeque<Step<M>>>,
    pumping: Cell<bool>,
}

impl<M: Machine> Pump<M> {
    pub(crate) fn new(machine: M) -> Self {
        Pump {
            machine: RefCell::new(machine),
            inbox: RefCell::new(VecDeque::new()),
            pumping: Cell::new(false),
        }
    }

    /// The machine, to read (never held while feeding).
    pub(crate) fn machine(&self) -> Ref<'_, M> {
        self.machine.borrow()
    }

    /// The machine, for an input whose actions wait for the next [`Pump::feed`] (a video
    /// session's start, so that its listeners are attached before anything is reported).
    pub(crate) fn machine_mut(&self) -> RefMut<'_, M> {
        self.machine.borrow_mut()
    }

    /// Hands `step` to the machine at `now()` — at once, or after the input being carried out
    /// — and carries out every action with `perform`. True when the inbox is empty again (the
    /// caller re-arms its timer); false for a nested feed (the outer one goes on).
    pub(crate) fn feed(
        &self,
        step: impl FnOnce(&mut M, M::Now) + 'static,
        now: impl Fn() -> M::Now,
        mut perform: impl FnMut(M::Action),
    ) -> bool {
        self.inbox.borrow_mut().push_back(Box::new(step));
        if self.pumping.replace(true) {
            return false;
        }
        loop {
            let next = self.inbox.borrow_mut().pop_front();
            let Some(step) = next else { break };
            step(&mut self.machine.borrow_mut(), now());
            loop {
                let action = self.machine.borrow_mut().poll_action();
                match action {
                    Some(action) => perform(action),
                    None => break,
                }
            }
        }
        self.pumping.set(false);
        true
    }
}
