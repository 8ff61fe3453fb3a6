"""A reward module for tests of a few GRPO steps, named in a recipe as a file:
``rewards.modules=[tests/helpers/dense_reward.py] rewards.funcs.test_distinct_chars=1.0``.

An untrained tiny model scores 0 on every task reward, so its first steps carry no gradient;
``test_distinct_chars`` differs between any two completions.
"""

from mcr.rewards import completion_text, register


@register("test_distinct_chars")
def distinct_chars(completions, **kwargs):
    texts = [completion_text(c) for c in completions]
    return [len(set(t)) / (len(t) + 1) for t in texts]
