"""``python -m policy_topics``: the same as the ``policy-topics`` command."""

from policy_topics.cli import main

if __name__ == "__main__":
    main()
