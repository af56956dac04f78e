# SBCL phase 1 on ImageNet-LT (Hou et al., ICCV 2023; JackHck/SBCL moco/sbcl.py, README "-a resnet50 --lr 0.1
# --batch_size 256", 8 GPUs): the first epochs // 2 = 200 epochs of the 400-epoch run are KCL on the MoCo model:
# ResNet-50, MLP projection 2048 -> 2048 -> ReLU -> 128 (--mlp, no BatchNorm), key encoder m 0.999 with shuffle-BN,
# a labelled queue of 65,536 keys, T 0.07, k = 6 same-class queue positives drawn at random WITH replacement (loss.py
# KCL: the mask is not zeroed between the 6 draws); SGD lr 0.1, momentum 0.9, weight decay 1e-4, cosine per epoch
# over the 200 epochs, no warm-up; both views MoCo v2's aug+ (RandomResizedCrop 224 of scale 0.2-1, ColorJitter
# (0.4, 0.4, 0.4, 0.1) p 0.8, grayscale p 0.2, Gaussian blur sigma 0.1-2 p 0.5, flip). The official queue stores the
# subclass id -1 for every key of this phase; here the queue has no id column, and phase 2 loads it as -1.
# Then ./sbcl_resnet50_8xb32_imagenet-lt_200e.py (phase 2) from its last checkpoint. tools/dist_train.sh THIS_CONFIG 8
_base_ = '../tsc/tsc-stage1-kcl_resnet50_4xb64_imagenet-lt_200e.py'
model = dict(contrast_loss=dict(sampling='random', replacement=True))
view_pipeline = [
    dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.2, 1.0), backend='pillow'),
    dict(type='RandomApply', prob=0.8,
         transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1)]),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True, channel_weights=(0.114, 0.587, 0.2989)),  # BGR
    dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=0.5),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
]
# 8 GPUs x 32 = 256 (the official total batch)
train_dataloader = dict(batch_size=32, dataset=dict(pipeline=[
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]))
