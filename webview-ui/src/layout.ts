// Where each row of a long list sits: measured heights where a row has been on screen, estimates elsewhere, and
// prefix sums over them. No DOM: the list asks it which rows cover a scroll range and where one of them starts.

export interface LayoutRow {
  /** Identity across rebuilds (what the scroll position is anchored to). */
  key: string;
  /** What a measured height is remembered under (a row that changes shape gets another). */
  hkey: string;
  estimate: number;
  /** The seed's place in the filtered list. */
  slot: number;
}

export class ListLayout<Row extends LayoutRow> {
  private rowsValue: Row[] = [];
  private readonly heights = new Map<string, number>();
  private offsets = new Float64Array(1);
  private keyIndex = new Map<string, number>();
  private slotIndex: number[] = [];
  private dirty = true;

  get rows(): readonly Row[] {
    return this.rowsValue;
  }

  setRows(rows: Row[]): void {
    this.rowsValue = rows;
    this.keyIndex = new Map(rows.map((row, index) => [row.key, index]));
    this.slotIndex = [];
    rows.forEach((row, index) => {
      if (this.slotIndex[row.slot] === undefined) this.slotIndex[row.slot] = index;
    });
    this.dirty = true;
  }

  /** @returns whether the height changed. */
  measure(hkey: string, height: number): boolean {
    const rounded = Math.round(height * 10) / 10;
    if (this.heights.get(hkey) === rounded) return false;
    this.heights.set(hkey, rounded);
    this.dirty = true;
    return true;
  }

  heightOf(index: number): number {
    const row = this.rowsValue[index];
    if (!row) return 0;
    return this.heights.get(row.hkey) ?? row.estimate;
  }

  private update(): void {
    if (!this.dirty) return;
    const rows = this.rowsValue;
    if (this.offsets.length !== rows.length + 1) this.offsets = new Float64Array(rows.length + 1);
    let y = 0;
    for (let i = 0; i < rows.length; i++) {
      this.offsets[i] = y;
      y += this.heightOf(i);
    }
    this.offsets[rows.length] = y;
    this.dirty = false;
  }

  get totalHeight(): number {
    this.update();
    return this.offsets[this.rowsValue.length] ?? 0;
  }

  offsetOf(index: number): number {
    this.update();
    return this.offsets[Math.max(0, Math.min(index, this.rowsValue.length))] ?? 0;
  }

  /** The row covering `y` (the last one when `y` is past the end; -1 when there are none). */
  indexAt(y: number): number {
    this.update();
    const n = this.rowsValue.length;
    if (n === 0) return -1;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.offsets[mid] ?? 0) <= y) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  indexOfKey(key: string): number {
    return this.keyIndex.get(key) ?? -1;
  }

  /** The first row of a seed's place in the list, or -1. */
  indexOfSlot(slot: number): number {
    return this.slotIndex[slot] ?? -1;
  }
}
