// The rewrite-rule contract of optimization passes on hooks.cpu.optimizeUnit. A pass
// names each of its rewrite rules and, where a rule's pattern matches, asks
// `rules.fire(name)` before rewriting: the answer says whether it may rewrite (a bug
// localizer switches rules off one by one), and a yes is counted as one firing. This
// is how `virtlab localize` learns which rules fired in which unit and can disable a
// subset of them — for the translators' own passes and for passes that plugins add,
// which it knows nothing of in advance. A pass run without a localizer gets
// ALL_RULES: every rule on, nothing recorded.

/** What a pass asks before applying one of its rewrite rules. */
export interface PassRules {
  /**
   * The rule `name` matched here: true if it may rewrite (then the rewrite counts as
   * one firing of it), false if it is switched off and the pass must leave the code
   * as it is. Names are the pass's own ('cse', 'load-load'); keep them stable.
   */
  fire(name: string): boolean;
}

/** Every rule on, nothing recorded: what passes use when no one is watching. */
export const ALL_RULES: PassRules = { fire: () => true };
