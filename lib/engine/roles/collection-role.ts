/**
 * What a role (embedded, proxy, datanode, querynode, compactor) composes for each collection it
 * opens: which channels it loads and applies, how it opens flushed segments, and how segments get
 * their indexes. Each role is a factory in this folder; a deployment's composition root picks one.
 */
import type { SegmentMeta } from '../catalog/catalog.ts';
import type { CollectionState } from '../collection/collection-state.ts';
import type { Segment } from '../segment/segment.ts';
import type { SegmentScope } from '../segment-scope.ts';

/** The channels of a collection whose flushed segments a process loads, and those whose records it applies. */
export interface ChannelShare {
  /** Whether to load the flushed segments of a channel (to serve reads, keep delete bitmaps or compact). */
  loads(channel: string): boolean;
  /** Whether this process applies the channel's WAL records (exactly one datanode per channel may). */
  applies(channel: string): boolean;
}

/** How a role opens flushed segments and keeps them in memory. */
export interface SegmentSource {
  /** Opens a flushed segment (attaching its index files where it keeps the segment resident, unless `attach` is false). */
  open(meta: SegmentMeta, attach?: boolean): Promise<Segment>;
  /** Takes the segments a search needs (those in `scope`, or all) into memory. */
  makeResident(scope?: SegmentScope): Promise<void>;
  /** Makes the vectors of `segments` readable (a get or query returning vectors): fetched to local disk where this process never fetched them. */
  fetchVectors(segments: Iterable<Segment>): Promise<void>;
  /** Whether a flushed segment's vectors are on local disk or in memory (false: remote until fetched); default true. */
  hasLocalVectors?(seg: Segment): boolean;
  /** Brings memory in line with the role's share after it changed; `idleMs` guards segments a read used lately. */
  applyResidency(idleMs: number, now: number): Promise<void>;
  /** Reads a compaction input whole when segments are open without vectors; undefined where they are whole already. */
  readonly readWhole?: (seg: Segment) => Promise<Segment>;
}

/** How a role gets flushed segments indexed. */
export interface IndexScheduler {
  /** Attaches a resident segment's index files (unusable ones are dropped from its metadata to be rebuilt). */
  attach(seg: Segment): Promise<void>;
  /** Requests the indexes a flushed segment lacks. */
  indexLater(seg: Segment): void;
  /** Drops the built indexes of a field (index dropped or replaced) and requests them again per the current spec. */
  resetIndexes(fieldName: string): Promise<void>;
  /** Follows a field's index spec changed by another process (a catalog refresh). */
  specChangedElsewhere(fieldName: string): Promise<void>;
}

/** The components a role plays on one collection. */
export interface RoleComponents {
  share: ChannelShare;
  segments: SegmentSource;
  indexes: IndexScheduler;
  /** Runs once the flushed segments are loaded, before replay (a querynode seeds its private PK index). */
  beforeReplay?: () => Promise<void>;
}

/** A role: builds its components over a collection's state. */
export type CollectionRole = (state: CollectionState) => RoleComponents;

/** Every channel: the embedded deployment and the querynode load and apply all of them. */
export const EVERY_CHANNEL: ChannelShare = { loads: () => true, applies: () => true };
