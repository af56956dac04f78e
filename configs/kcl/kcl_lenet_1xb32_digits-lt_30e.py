# KCL stage 1 on Digits-LT (CPU demo): LeNet-5 (a 120-d feature) with KCL's linear projection 120 -> 128, a momentum
# key encoder with a queue of 192 keys (about half the training set, as 65,536 of ImageNet-LT's 115,846), k = 6
# positives (the first 6 same-class slots), T 0.07, two crop views per image, and the Digits-LT demo schedule (SGD lr
# 0.05, batch 32, weight decay 5e-4, cosine over 30 epochs); the queue is pre-filled before epoch 0 (6 batches, as
# BalFeat's init_key_queue). The key encoder's momentum is 0.99 instead of 0.999:
# this run has 300 steps, after which a 0.999 key encoder would still be 74% its initial weights. The online linear
# probe (detached) is the monitor tested at the end; KCL's result is ./kcl-linear_lenet_1xb32_digits-lt_10e.py.
# python tools/data/make_demo_data.py digits_lt --out-dir data/digits_lt first; python tools/train.py THIS_CONFIG
_base_ = ['../_base_/datasets/digits_lt_two_view.py', '../_base_/schedules/digits_lt_30e.py',
          '../_base_/default_runtime_cls.py']
model = dict(
    type='QueueContrastClassifier',
    backbone=dict(type='LeNet5', num_classes=-1),
    neck=dict(type='LinearNeck', in_channels=120, out_channels=128, norm_cfg=None),
    head=dict(type='LinearClsHead', num_classes={{_base_.num_classes}}, in_channels=120),
    online_probe=True,
    contrast_loss=dict(type='KCLLoss', temperature=0.07, num_positives=6, sampling='first'),
    queue_size=192,
    feat_dim=128,
    momentum=0.99)
train_dataloader = dict(drop_last=True)  # the queue takes whole batches
default_hooks = dict(logger=dict(interval=5))
log_processor = dict(window_size=5)
custom_hooks = [dict(type='QueuePrefillHook')]
