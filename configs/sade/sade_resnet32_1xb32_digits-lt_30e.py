# SADE (Zhang et al., NeurIPS 2022), 3 experts, ResNet-32 on Digits-LT (grayscale; CPU demo): RIDE's CIFAR network
# (shared stem + stage 1, 3 experts of stages 2-3 with 24 / 48 channels, each a cosine classifier x 30) trained with
# SADELoss (tau 2) on the baseline's schedule. Compare with configs/baseline/resnet32_1xb32_digits-lt_30e.py and
# configs/ride/ride_resnet32_1xb32_digits-lt_30e.py.
# Test-time aggregation: the CIFAR settings (batch 128, SGD lr 0.1, nesterov, weight decay 5e-4, 5 epochs, early stop
# below 0.05) on views made for grayscale digits: crop 32 pad 2 (the training crop), brightness / contrast jitter
# 0.4 with p 0.8 and blur p 0.2; no flip, hue, saturation or grayscale (digits are not mirror-symmetric and have one
# channel). python tools/train.py THIS_CONFIG, then python tools/analysis/test_agnostic.py THIS_CONFIG
# work_dirs/sade_resnet32_1xb32_digits-lt_30e/epoch_30.pth --aggregate
_base_ = ['./_base_/sade_resnet32_cifar.py', '../_base_/datasets/digits_lt.py', '../_base_/schedules/digits_lt_30e.py',
          '../_base_/default_runtime_cls.py']
model = dict(backbone=dict(in_channels=1),
             head=dict(num_classes={{_base_.num_classes}}, loss=dict(class_stats={{_base_.class_stats}})))
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=10, max_keep_ckpts=1))
log_processor = dict(window_size=5)
view_pipeline = [
    dict(type='RandomCrop', crop_size=32, padding=2),
    dict(type='NumpyToPIL', to_rgb=False),  # torchvision's jitter works on one channel, mmcv's needs three
    dict(type='RandomApply', transforms=[dict(type='torchvision/ColorJitter', brightness=0.4, contrast=0.4)],
         prob=0.8),
    dict(type='PILToNumpy', to_bgr=False),
    dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=0.2),
]
test_time_aggregation = dict(
    pipeline=[dict(type='LoadImageFromFile', color_type='grayscale'),
              dict(type='MultiView', num_views=2, transforms=[view_pipeline]), dict(type='PackInputs')],
    batch_size=128, num_workers=0, epochs=5, min_weight=0.05,
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4))
