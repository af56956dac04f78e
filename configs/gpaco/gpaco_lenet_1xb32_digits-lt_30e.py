# GPaCo (Cui et al., TPAMI 2023) on Digits-LT (CPU demo): LeNet-5 (a 120-d feature), no key encoder (both views
# through the same encoder, both anchors), the projection MLP Linear(120, 120) - ReLU - Linear(120, 120) - ReLU -
# Linear(120, 32) without BatchNorm, the centres Linear(120, 10) on both views, a queue of 256 keys, GPaCoLoss with
# T 0.05 and alpha 0.01 (PaCo's CIFAR settings: GPaCo ships no CIFAR-LT run), two crop views per image, and the
# configs/baseline demo schedule (SGD lr 0.05, batch 32, cosine over 30 epochs).
# python tools/data/make_demo_data.py digits_lt --out-dir data/digits_lt first; python tools/train.py THIS_CONFIG
_base_ = ['../_base_/datasets/digits_lt_two_view.py', '../_base_/schedules/digits_lt_30e.py',
          '../_base_/default_runtime_cls.py']
model = dict(
    type='QueueContrastClassifier',
    backbone=dict(type='LeNet5', num_classes=-1),
    neck=dict(type='MLPNeck', channels=(120, 120, 120, 32)),
    head=dict(type='LinearClsHead', num_classes={{_base_.num_classes}}, in_channels=120, init_cfg=None),
    contrast_loss=dict(type='GPaCoLoss', class_stats={{_base_.class_stats}}, num_classes={{_base_.num_classes}},
                       temperature=0.05, alpha=0.01),
    queue_size=256, feat_dim=32, momentum=None)
train_dataloader = dict(drop_last=True)  # the queue takes whole batches
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=10, max_keep_ckpts=1))
log_processor = dict(window_size=5)
