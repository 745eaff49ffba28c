"""Training runners: pretraining, SFT, GRPO and reward models, with one set of Trainer callbacks."""
