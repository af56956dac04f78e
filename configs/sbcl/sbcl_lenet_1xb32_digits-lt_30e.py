# SBCL stage 1 on Digits-LT (CPU demo): LeNet-5 (a 120-d feature), both views of a batch through the one encoder,
# the official projection MLP shape Linear - ReLU - Linear to 128 (no BN), plain SupCon (T 0.1) until the first
# clustering, then SBCLLoss (subclass term T 0.1 x 1/0.07, class term gamma 0.25 at the density temperatures);
# SBCLClusterHook re-clusters every 5 epochs from epoch 5 (the official 10 of 1000, scaled to 30 epochs) with the
# official cluster size 10, and the Digits-LT demo schedule (SGD lr 0.05, batch 32, cosine over 30 epochs). No
# online classifier and no validation (SBCL's result is the probe, ./sbcl-linear_lenet_1xb32_digits-lt_10e.py).
# python tools/data/make_demo_data.py digits_lt --out-dir data/digits_lt first; python tools/train.py THIS_CONFIG
_base_ = ['../_base_/datasets/digits_lt_two_view.py', '../_base_/schedules/digits_lt_30e.py',
          '../_base_/default_runtime_cls.py']
model = dict(
    type='MultiViewContrastClassifier',
    backbone=dict(type='LeNet5', num_classes=-1),
    neck=dict(type='MLPNeck', channels=(120, 120, 128)),
    contrast_loss=dict(type='SBCLLoss', num_classes={{_base_.num_classes}}, temperature=0.1, sub_temperature=0.1,
                       base_temperature=0.07, gamma=0.25),
    contrast_views=(0, 1))
custom_hooks = [dict(type='SBCLClusterHook', interval=5, start_epoch=5, cluster_size=10, temperature=0.1)]
train_cfg = dict(val_interval=1000)
val_cfg = None
val_dataloader = None
val_evaluator = None
test_cfg = None
test_dataloader = None
test_evaluator = None
default_hooks = dict(logger=dict(interval=5))
log_processor = dict(window_size=5)
