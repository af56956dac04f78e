# MDCS (Zhao et al., ICCV 2023), 3 experts, ResNet-32 on Digits-LT (grayscale; CPU demo): RIDE's CIFAR network
# (./_base_/mdcs_resnet32_cifar.py) on [weak; strong] views, MDCSLoss with the official lambda -0.5 / 1 / 2.5 and CS
# weight 0.6 * min(epoch / 20, 1), on the baseline's 30-epoch schedule. Weak view: the Digits-LT crop 32 pad 2;
# strong view: the crop + RandAugment n2 m10 over the geometric ops, brightness and solarize of PaCo's policy
# (../_base_/datasets/paco_augmentation.py): no flip (digits are not mirror-symmetric), no colour, contrast, sharpness,
# equalize or autocontrast (mmcv's need three channels). Compare with
# configs/sade/sade_resnet32_1xb32_digits-lt_30e.py. python tools/train.py THIS_CONFIG
_base_ = ['./_base_/mdcs_resnet32_cifar.py', '../_base_/datasets/digits_lt_two_view.py',
          '../_base_/schedules/digits_lt_30e.py', '../_base_/default_runtime_cls.py']
model = dict(backbone=dict(in_channels=1),
             head=dict(num_classes={{_base_.num_classes}}, loss=dict(class_stats={{_base_.class_stats}})))
weak_view = [dict(type='RandomCrop', crop_size=32, padding=2)]
strong_view = [
    dict(type='RandomCrop', crop_size=32, padding=2),
    dict(type='RandAugment', num_policies=2, magnitude_level=10, magnitude_std=0.5, hparams=dict(pad_val=0),
         policies=[dict(type='Rotate', magnitude_range=(0, 30), interpolation='bilinear'),
                   dict(type='Shear', magnitude_range=(0, 0.3), direction='horizontal', interpolation='bilinear'),
                   dict(type='Shear', magnitude_range=(0, 0.3), direction='vertical', interpolation='bilinear'),
                   dict(type='Translate', magnitude_range=(0, 0.45), direction='horizontal', interpolation='bilinear'),
                   dict(type='Translate', magnitude_range=(0, 0.45), direction='vertical', interpolation='bilinear'),
                   dict(type='Brightness', magnitude_range=(-0.9, 0.9), random_negative_prob=0.0),
                   dict(type='Solarize', magnitude_range=(0, 256))]),
]
train_pipeline = [
    dict(type='LoadImageFromFile', color_type='grayscale'),
    dict(type='MultiView', num_views=[1, 1], transforms=[weak_view, strong_view]),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=10, max_keep_ckpts=1))
log_processor = dict(window_size=5)
