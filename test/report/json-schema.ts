/**
 * A small JSON Schema (2020-12) checker for the keywords faultline's published schemas use: type, enum,
 * const, properties, required, additionalProperties, propertyNames, items, minItems, minimum, maximum,
 * pattern, oneOf. Returns the problems found (empty when valid), each with its JSON path. Enough to hold a
 * real journal against the schema `faultline schema --journal` prints, without a validator dependency.
 */
type Schema = Record<string, unknown>;

export function schemaProblems(schema: Schema, value: unknown, path = '$'): string[] {
  const problems: string[] = [];
  const type = schema.type as string | undefined;
  if (type !== undefined && !hasType(value, type))
    return [`${path}: expected ${type}, got ${JSON.stringify(value)}`];
  if (schema.enum !== undefined && !(schema.enum as unknown[]).includes(value))
    problems.push(`${path}: ${JSON.stringify(value)} not in ${JSON.stringify(schema.enum)}`);
  if ('const' in schema && schema.const !== value)
    problems.push(`${path}: expected ${JSON.stringify(schema.const)}`);
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum)
      problems.push(`${path}: < ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum)
      problems.push(`${path}: > ${schema.maximum}`);
  }
  if (
    typeof value === 'string' &&
    typeof schema.pattern === 'string' &&
    !new RegExp(schema.pattern, 'u').test(value)
  )
    problems.push(`${path}: does not match ${schema.pattern}`);
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems)
      problems.push(`${path}: fewer than ${schema.minItems} items`);
    if (schema.items !== undefined) {
      for (const [index, item] of value.entries())
        problems.push(...schemaProblems(schema.items as Schema, item, `${path}[${index}]`));
    }
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const object = value as Record<string, unknown>;
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const key of (schema.required ?? []) as string[])
      if (!(key in object)) problems.push(`${path}.${key}: required`);
    for (const [key, item] of Object.entries(object)) {
      const names = schema.propertyNames as Schema | undefined;
      if (names !== undefined) problems.push(...schemaProblems(names, key, `${path}.${key} (name)`));
      if (key in properties)
        problems.push(...schemaProblems(properties[key] as Schema, item, `${path}.${key}`));
      else if (schema.additionalProperties === false) problems.push(`${path}.${key}: not allowed`);
      else if (typeof schema.additionalProperties === 'object')
        problems.push(...schemaProblems(schema.additionalProperties as Schema, item, `${path}.${key}`));
    }
  }
  if (schema.oneOf !== undefined) {
    const results = (schema.oneOf as Schema[]).map((option) => schemaProblems(option, value, path));
    const passing = results.filter((result) => result.length === 0).length;
    if (passing !== 1) {
      const nearest = results.reduce((best, result) => (result.length < best.length ? result : best));
      problems.push(`${path}: matches ${passing} of oneOf (nearest: ${nearest.join('; ')})`);
    }
  }
  return problems;
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'null':
      return value === null;
    default:
      return typeof value === type;
  }
}
