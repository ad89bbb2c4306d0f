/**
 * Field resolution for the filter type checker: turns a field reference as written (`a`, `$meta`,
 * `a["k"][0]`, an unknown name under dynamic fields) into a ColumnRef that says which column or JSON
 * path is read, how its values are represented and what to call its type in messages. Separate from
 * the checker because it depends on the schema only, not on the expression around the reference.
 */
import type { CollectionSchema, DataType, ElementType, FieldSchema } from '../schema/types.ts';
import type { FieldRef } from './filter-ast.ts';
import type { ColumnRef, FilterErrors, Kind, PathStep } from './filter-plan.ts';

/** The plan kind of a schema data type; undefined for vectors and other unfilterable types. */
export function kindOfType(t: DataType | ElementType | undefined): Kind | undefined {
  switch (t) {
    case 'Bool':
      return 'bool';
    case 'Int8':
    case 'Int16':
    case 'Int32':
      return 'int32';
    case 'Int64':
      return 'int64';
    case 'Float':
      return 'float32';
    case 'Double':
      return 'double';
    case 'VarChar':
      return 'string';
    case 'JSON':
      return 'json';
    case 'Array':
      return 'array';
    default:
      return undefined;
  }
}

/** Resolves field references against one schema, caching bare names (one resolver per type check). */
export class FieldResolver {
  private readonly fieldsByName = new Map<string, FieldSchema>();
  private readonly bareRefs = new Map<string, ColumnRef>();

  constructor(
    private readonly errs: FilterErrors,
    private readonly schema: CollectionSchema,
  ) {
    for (const f of schema.fields) this.fieldsByName.set(f.name, f);
  }

  /** Resolves `name`, `$meta`, `name[..]` and `$meta[..]`; unknown names go to `$meta` when dynamic fields are on. */
  resolve(node: FieldRef): ColumnRef {
    // Bare names repeat a lot in generated filters (`id == 1 or id == 2 ...`): resolve each once.
    if (node.keys.length === 0) {
      let ref = this.bareRefs.get(node.name);
      if (!ref) {
        ref = this.resolveUncached(node);
        this.bareRefs.set(node.name, ref);
      }
      return ref;
    }
    return this.resolveUncached(node);
  }

  private resolveUncached(node: FieldRef): ColumnRef {
    const { name, keys } = node;
    const text = this.errs.text(node);
    const steps: PathStep[] = [];
    for (const k of keys) {
      if ('key' in k) {
        if (k.key === '') this.errs.fail(node, `invalid identifier: ${text}; JSON keys must not be empty`);
        steps.push({ key: k.key, index: /^(0|[1-9][0-9]*)$/.test(k.key) ? Number(k.key) : -1, guarded: k.key in Object.prototype });
      } else {
        steps.push({ key: String(k.index), index: k.index, guarded: false });
      }
    }
    const dynamicRef = (allSteps: PathStep[]): ColumnRef => ({
      key: `$meta${allSteps.map((s) => `[${JSON.stringify(s.key)}]`).join('')}`,
      text,
      root: '$meta',
      dynamic: true,
      steps: allSteps,
      kind: 'json',
      typeName: 'JSON',
    });
    if (name === '$meta') {
      if (!this.schema.enableDynamicField) this.errs.fail(node, 'field $meta not exist: the collection has dynamic fields disabled');
      return dynamicRef(steps);
    }
    const field = this.fieldsByName.get(name);
    if (!field) {
      if (!this.schema.enableDynamicField) {
        this.errs.fail(node, `field ${name} not exist; the collection has no field "${name}" and dynamic fields are disabled`);
      }
      return dynamicRef([{ key: name, index: -1, guarded: name in Object.prototype }, ...steps]);
    }
    const kind = kindOfType(field.dataType);
    if (!kind) this.errs.fail(node, `filter on ${field.dataType} field ${name} is not supported; vector fields cannot be filtered`);
    const key = `${name}${steps.map((s) => `[${JSON.stringify(s.key)}]`).join('')}`;
    if (steps.length === 0) {
      const elementKind = kind === 'array' ? kindOfType(field.elementType) : undefined;
      const typeName = kind === 'array' ? `Array[${field.elementType ?? '?'}]` : field.dataType;
      return { key, text, root: name, dynamic: false, field, steps, kind, typeName, ...(elementKind ? { elementKind } : {}) };
    }
    if (kind === 'json') return { key, text, root: name, dynamic: false, field, steps, kind, typeName: 'JSON' };
    if (kind === 'array') {
      const first = keys[0]!;
      if (!('index' in first)) this.errs.fail(node, `can only access array field with integer index, received ${text}`);
      if (keys.length > 1) this.errs.fail(node, `an Array field takes a single integer index, received ${text}`);
      const elementKind = kindOfType(field.elementType);
      if (!elementKind) this.errs.fail(node, `Array field ${name} has no usable element type (${field.elementType ?? 'none'})`);
      return { key, text, root: name, dynamic: false, field, steps, kind: elementKind, typeName: `${field.elementType} (element of Array)` };
    }
    this.errs.fail(node, `${field.dataType} data type not supported accessed with []: field ${name} is neither JSON nor Array`);
  }
}
