// A run's cost budget (--max-cost, svd.budget.maxCost). Before a request is sent its worst case is reserved: every
// prompt token it could hold and max_tokens of completion per sample. It goes out only when what was spent (the run's
// recorded usage from earlier sessions plus this session's), what is reserved for requests in flight, and its own
// reservation stay within the budget; its answer settles the reservation, the usage counted in its place. So the
// budget is never crossed as long as a server bills no more than max_tokens, and the first refusal closes the budget:
// the requests in flight finish and are recorded, nothing new starts, and the run ends stopped for budget. The
// budget is no part of the run's identity: the same command with a larger one resumes it.
import { SvdError } from '../base/errors';
import { PURPOSES, type ChatMessage, type Purpose, type SampleRequest } from '../base/types';
import { billedCost, costOf, formatUsd, type BilledTokens, type ModelPrice } from './cost';

/**
 * A bound on the tokens a prompt can take: one per UTF-8 byte of its text (a byte-level tokenizer never does worse),
 * plus room for each message's role markers and the chat template around them.
 */
export const TOKENS_PER_MESSAGE = 8;
export const TOKENS_PER_PROMPT = 16;

export function promptTokenBound(messages: readonly ChatMessage[]): number {
  let bytes = 0;
  for (const message of messages) bytes += Buffer.byteLength(message.content, 'utf8') + TOKENS_PER_MESSAGE;
  return bytes + TOKENS_PER_PROMPT;
}

/** The most a request for `n` samples can cost: n requests in the worst case (a server that takes no batches). */
export function requestCostBound(price: ModelPrice, request: Pick<SampleRequest, 'messages' | 'maxTokens'>, n: number, batch = false): number {
  const tokens: BilledTokens = { promptTokens: n * promptTokenBound(request.messages), completionTokens: n * request.maxTokens };
  return costOf(tokens, price, batch);
}

/** The run reached its budget: what it spent and what it may spend. */
export class BudgetReached extends SvdError {
  constructor(
    readonly spentUsd: number,
    readonly maxUsd: number,
    readonly neededUsd: number,
  ) {
    const statement = budgetText(spentUsd, maxUsd, neededUsd);
    super('budget', `${statement} Run the same command with a larger --max-cost to resume.`, {
      editorMessage: `${statement} Raise svd.budget.maxCost and resume the run (SVD: Resume Run).`,
    });
    this.recordText = statement;
  }

  readonly recordText: string;
}

/** The stop as the run's record keeps it (the run record's `message`). */
export function budgetText(spentUsd: number, maxUsd: number, neededUsd: number): string {
  return `stopped for budget: spent ${formatUsd(spentUsd)} of ${formatUsd(maxUsd)}; the next request could cost up to ${formatUsd(neededUsd)}.`;
}

export interface Reservation {
  readonly usd: number;
  settled: boolean;
}

/**
 * The arithmetic of a budget, apart from prices: `spent()` is what the usage counted so far cost (it moves as answers
 * come in). A reservation is granted only while spent + reserved + it <= limit; JavaScript runs one callback at a
 * time, so checking and reserving cannot interleave between concurrent requests.
 */
export class BudgetLedger {
  private reservedUsd = 0;
  /** Reservations of requests written into a batch wave: billed once the batch runs, so they stay counted. */
  private committedUsd = 0;
  private open = 0;
  private closedBy: BudgetReached | undefined;
  private waiters: (() => void)[] = [];

  constructor(
    readonly limitUsd: number,
    private readonly spent: () => number,
  ) {
    if (!(Number.isFinite(limitUsd) && limitUsd >= 0)) throw new SvdError('bad_config', `the budget must be a number of USD from 0, got ${limitUsd}`);
  }

  get reserved(): number {
    return this.reservedUsd;
  }

  /** Set once a reservation was refused: nothing is granted after it. */
  get reached(): BudgetReached | undefined {
    return this.closedBy;
  }

  /** What was spent, and what the requests of this session's batch wave will cost at most. */
  spentUsd(): number {
    return this.spent() + this.committedUsd;
  }

  /** @throws BudgetReached when `usd` does not fit, and from then on. */
  reserve(usd: number): Reservation {
    if (this.closedBy) throw this.closedBy;
    const spent = this.spentUsd();
    // A tolerance of a millionth of a cent, so that sums of fractions that fit exactly are not refused.
    if (spent + this.reservedUsd + usd > this.limitUsd + 1e-8) {
      this.closedBy = new BudgetReached(spent, this.limitUsd, usd);
      throw this.closedBy;
    }
    this.reservedUsd += usd;
    this.open++;
    return { usd, settled: false };
  }

  /** The request answered or failed: its usage (if any) is counted now, so its reservation is given back. */
  settle(reservation: Reservation): void {
    if (reservation.settled) return;
    reservation.settled = true;
    this.reservedUsd = this.open === 1 ? 0 : this.reservedUsd - reservation.usd;
    this.open--;
    if (this.open === 0) for (const wake of this.waiters.splice(0)) wake();
  }

  /**
   * The request was written into a batch wave instead of answered: its answer comes in a later session, which counts
   * its usage, but the batch bills it whatever happens, so its reservation stays counted for this session.
   */
  commit(reservation: Reservation): void {
    if (reservation.settled) return;
    this.committedUsd += reservation.usd;
    this.settle(reservation);
  }

  /** Resolves once no request holds a reservation. */
  drained(): Promise<void> {
    return this.open === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}

/** What the sampler asks before it sends a request, and tells once it is answered. */
export interface RequestBudget {
  /** @throws BudgetReached */
  reserve(request: SampleRequest, n: number): Reservation;
  settle(reservation: Reservation): void;
  /** The request went into a batch wave: its reservation stays counted (see BudgetLedger.commit). */
  commit(reservation: Reservation): void;
}

/** A run's price and budget, as the front ends give them; no part of the run's identity. */
export interface RunCostOptions {
  /** The run's model's price; undefined when the table has none (its cost is unknown). */
  price?: ModelPrice;
  /** USD the run may spend over all its sessions. Needs a price. */
  maxUsd?: number;
  /** This session's requests go to a batch API (`svd batch`): each is reserved at the batch price. */
  batch?: boolean;
}

/** What a run has spent: its earlier sessions' recorded usage plus this session's, at its model's price. */
export class RunSpend {
  private readonly before: number;

  constructor(
    private readonly price: ModelPrice,
    recorded: Partial<Record<Purpose, BilledTokens>> | undefined,
    private readonly session: () => Partial<Record<Purpose, BilledTokens>>,
  ) {
    this.before = billedCost(billedTotal(recorded ?? {}), price);
  }

  /** Each request at its own rate: the usage keeps apart what a batch API answered. */
  spentUsd(): number {
    return this.before + billedCost(billedTotal(this.session()), this.price);
  }
}

export function billedTotal(usage: Partial<Record<Purpose, BilledTokens>>): BilledTokens {
  const total = { promptTokens: 0, completionTokens: 0, batch: { promptTokens: 0, completionTokens: 0 } };
  for (const purpose of PURPOSES) {
    total.promptTokens += usage[purpose]?.promptTokens ?? 0;
    total.completionTokens += usage[purpose]?.completionTokens ?? 0;
    total.batch.promptTokens += usage[purpose]?.batch?.promptTokens ?? 0;
    total.batch.completionTokens += usage[purpose]?.batch?.completionTokens ?? 0;
  }
  return total;
}

/** A run's budget: the ledger over what the run spent, each request's bound at the run's price. */
export class RunBudget implements RequestBudget {
  readonly ledger: BudgetLedger;

  constructor(
    maxUsd: number,
    private readonly price: ModelPrice,
    spend: RunSpend,
    private readonly batch = false,
  ) {
    this.ledger = new BudgetLedger(maxUsd, () => spend.spentUsd());
  }

  reserve(request: SampleRequest, n: number): Reservation {
    return this.ledger.reserve(requestCostBound(this.price, request, n, this.batch));
  }

  settle(reservation: Reservation): void {
    this.ledger.settle(reservation);
  }

  commit(reservation: Reservation): void {
    this.ledger.commit(reservation);
  }

  /**
   * Once the budget closed: its refusal, after the requests still in flight were answered and their continuations
   * (which record them) ran. A seed that met the budget may have left sibling requests going. undefined while open.
   */
  async closed(): Promise<BudgetReached | undefined> {
    const reached = this.ledger.reached;
    if (!reached) return undefined;
    await this.ledger.drained();
    await new Promise((resolve) => setImmediate(resolve));
    return reached;
  }
}

/** The spend and budget of a run from its options; the budget without a price is refused. */
export function runSpending(
  cost: RunCostOptions | undefined,
  recorded: Partial<Record<Purpose, BilledTokens>> | undefined,
  session: () => Partial<Record<Purpose, BilledTokens>>,
): { spend?: RunSpend; budget?: RunBudget } {
  if (!cost?.price) {
    if (cost?.maxUsd !== undefined) throw new SvdError('bad_config', 'a cost budget needs the price of the run\'s model');
    return {};
  }
  const spend = new RunSpend(cost.price, recorded, session);
  return { spend, budget: cost.maxUsd === undefined ? undefined : new RunBudget(cost.maxUsd, cost.price, spend, cost.batch) };
}
