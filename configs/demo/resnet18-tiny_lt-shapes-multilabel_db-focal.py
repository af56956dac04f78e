# DB-Focal (Distribution-Balanced loss with class-aware resampling) on the LT-Shapes multi-label view with a
# quarter-width ResNet-18 at 96 px, on a CPU in under a minute; prints mAP overall and over head (>= 100 training
# images), medium (20-99) and tail (< 20) classes, and writes per_class_ap.{json,png} next to the log.
#   python tools/data/make_demo_data.py lt_shapes --out-dir data/lt_shapes
#   python tools/train.py configs/demo/resnet18-tiny_lt-shapes-multilabel_db-focal.py
_base_ = ['mmpretrain::_base_/default_runtime.py', '../_base_/datasets/lt_shapes_multilabel.py']
model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=18, stem_channels=16, base_channels=16, out_indices=(3, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='MultiLabelLinearClsHead', num_classes={{_base_.num_classes}}, in_channels=128,
              loss=dict(type='DistributionBalancedLoss', class_stats={{_base_.class_stats}}, reweight='rebalance',
                        focal=True, gamma=2.0, balance_param=2.0, map_alpha=0.1, map_beta=10.0, map_mu=0.3,
                        ntr_kappa=0.05, ntr_lambda=5.0)))
# the DB recipe's class-aware sampler (3 images per class visit), with epochs as long as the data set to stay fast
train_dataloader = dict(sampler=dict(_delete_=True, type='ClassAwareSampler', num_samples_cls=3, num_samples='dataset'))

max_epochs = 12
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict()
test_cfg = dict()
# AdamW rather than the paper's SGD: from scratch, the DB loss (a mean over B x C, damped by the focal term) gives
# gradients too small for SGD to leave chance level in a few epochs; Adam's step does not depend on their scale
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4), clip_grad=dict(max_norm=35, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=1.0 / 3, by_epoch=False, begin=0, end=20),
    dict(type='CosineAnnealingLR', T_max=max_epochs, by_epoch=True),
]
auto_scale_lr = dict(base_batch_size=32)
default_hooks = dict(logger=dict(type='LoggerHook', interval=10),
                     checkpoint=dict(type='CheckpointHook', interval=max_epochs, max_keep_ckpts=1))
log_processor = dict(window_size=10)
randomness = dict(seed=0)  # same seed, same demo numbers (CPU)
