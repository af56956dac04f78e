# RIDE (Wang et al., ICLR 2021), 3 experts, ResNet-50 on ImageNet-LT: the official ImageNet-LT recipe
# (frank-xwang/RIDE-LongTailRecognition configs/config_imagenet_lt_resnext50_ride.json): lambda -0.2,
# reweight_factor 0.02, LDAM-DRW per expert with DRW from epoch 80, SGD nesterov lr 0.1 for batch 256 (8 x 32),
# weight decay 2e-4, linear warm-up 5 epochs, x0.1 at 60 and x0.01 at 80. The official run is 100 epochs; the issue
# asks for 90, so this stops at 90 with the official milestones (train_cfg.max_epochs=100 for the official length).
# Network: shared stem + layer1 + layer2, per-expert layer3 + layer4 at 3/4 width (reduce_dimension: a 1536-d
# feature per expert), each expert a cosine classifier x 30; no router (stage 2). Model, data and loss:
# ./_base_/ride_resnet50_imagenet-lt.py; the recipe's schedule below. tools/dist_train.sh THIS_CONFIG 8
_base_ = ['./_base_/ride_resnet50_imagenet-lt.py', '../_base_/schedules/imagenet_lt_90e.py']
custom_hooks = [dict(type='LossEpochHook')]  # tells the loss the epoch (DRW)
train_dataloader = dict(batch_size=32)
max_epochs = 90
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, nesterov=True, weight_decay=2e-4))
param_scheduler = [
    # LinearLR over [begin, end) reaches end_factor at epoch end - 1: factors 0.2, 0.4, 0.6, 0.8, 1.0
    dict(type='LinearLR', start_factor=0.2, end_factor=1.0, by_epoch=True, begin=0, end=5),
    dict(type='MultiStepLR', milestones=[60, 80], gamma=0.1, by_epoch=True, begin=0, end=max_epochs),
]
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=256)
