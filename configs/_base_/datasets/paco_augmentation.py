# The view augmentations of PaCo and GPaCo (dvlab-research/Parametric-Contrastive-Learning@fe56535e
# PaCo/LT/paco_lt.py lines 325-373, paco_cifar.py lines 312-332, randaugment.py, autoaug.py) in mmpretrain's
# transforms, for MultiView pipelines. No dataset here: a config lists this file among its bases and uses the views.
# ImageNet-scale views work on mmpretrain's BGR images (LoadImageFromFile); the CIFAR views on CIFARLTDataset's RGB
# arrays. See configs/paco/README.md, "Augmentation", for what is exact and what is not.

# The official RandAugment (timm's old `randaugment.py`, `rand-n{N}-m{M}-mstd0.5`): N of these 15 ops drawn uniformly
# with replacement, each then applied with probability 0.5 at a magnitude ~ N(M, 0.5) clipped to [0, 10], mapped
# linearly onto `magnitude_range`. Official arguments at magnitude m: rotate +-30 m / 10 deg, shear +-0.3 m / 10,
# translate +-0.45 m / 10 of the side (sign drawn with p 0.5); colour / contrast / brightness / sharpness factor
# 0.1 + 1.8 m / 10 with no sign (mmpretrain's factor is 1 + magnitude: range -0.9 .. 0.9, never negated); posterize
# keeps int(4 m / 10) bits (FloorPosterize: mmpretrain's Posterize rounds up); solarize threshold 256 m / 10;
# solarize-add 110 m / 10 below 128. Fill: the official img_mean (124, 116, 104) RGB, here BGR.
paco_randaug_pad_val = (104, 116, 124)
paco_randaug_policies = [
    dict(type='AutoContrast'),
    dict(type='Equalize'),
    dict(type='Invert'),
    dict(type='Rotate', magnitude_range=(0, 30), interpolation='bilinear'),
    dict(type='FloorPosterize', magnitude_range=(0, 4)),
    dict(type='Solarize', magnitude_range=(0, 256)),
    dict(type='SolarizeAdd', magnitude_range=(0, 110)),
    dict(type='ColorTransform', magnitude_range=(-0.9, 0.9), random_negative_prob=0.0),
    dict(type='Contrast', magnitude_range=(-0.9, 0.9), random_negative_prob=0.0),
    dict(type='Brightness', magnitude_range=(-0.9, 0.9), random_negative_prob=0.0),
    dict(type='Sharpness', magnitude_range=(-0.9, 0.9), random_negative_prob=0.0),
    dict(type='Shear', magnitude_range=(0, 0.3), direction='horizontal', interpolation='bilinear'),
    dict(type='Shear', magnitude_range=(0, 0.3), direction='vertical', interpolation='bilinear'),
    dict(type='Translate', magnitude_range=(0, 0.45), direction='horizontal', interpolation='bilinear'),
    dict(type='Translate', magnitude_range=(0, 0.45), direction='vertical', interpolation='bilinear'),
]
paco_randaugment = dict(type='RandAugment', policies=paco_randaug_policies, num_policies=2, magnitude_level=10,
                        magnitude_std=0.5, hparams=dict(pad_val=paco_randaug_pad_val))
paco_gray = dict(type='RandomGrayscale', prob=0.2, keep_channels=True, channel_weights=(0.114, 0.587, 0.2989))  # BGR
paco_blur = dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=0.5)  # PIL radius
paco_jitter = dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4)  # hue 0, always applied
paco_crop = dict(type='RandomResizedCrop', scale=224, backend='pillow')  # scale (0.08, 1), bilinear

# `augmentation_sim`: crop, jitter, grayscale 0.2, blur 0.5, flip.
sim_view = [paco_crop, paco_jitter, paco_gray, paco_blur, dict(type='RandomFlip', prob=0.5, direction='horizontal')]
# `augmentation_randncls`: crop, flip, jitter, RandAugment.
randcls_view = [paco_crop, dict(type='RandomFlip', prob=0.5, direction='horizontal'), paco_jitter, paco_randaugment]
# `augmentation_randnclsstack`: crop, flip, jitter, grayscale 0.2, blur 0.5, RandAugment.
randclsstack_view = [paco_crop, dict(type='RandomFlip', prob=0.5, direction='horizontal'), paco_jitter, paco_gray,
                     paco_blur, paco_randaugment]
# The same with RandAugment n3 (GPaCo's ResNeXt-50 run, --randaug_n 3).
paco_randaugment_n3 = dict(paco_randaugment, num_policies=3)
randcls_n3_view = [paco_crop, dict(type='RandomFlip', prob=0.5, direction='horizontal'), paco_jitter,
                   paco_randaugment_n3]
randclsstack_n3_view = [paco_crop, dict(type='RandomFlip', prob=0.5, direction='horizontal'), paco_jitter, paco_gray,
                        paco_blur, paco_randaugment_n3]

# CIFAR: `augmentation_regular` = crop 32 with padding 4, flip, the AutoAugment CIFAR10Policy (autoaug.py: one of
# these 25 sub-policies drawn uniformly, each op applied with its probability at its fixed magnitude; fill 128;
# levels 0..9 of shear 0 .. 0.3, translate 0 .. 150 / 331 of the side, rotate 0 .. 30 deg, colour / contrast /
# sharpness / brightness factor 1 +- 0 .. 0.9, posterize 8 .. 4 bits, solarize threshold 256 .. 0; signs drawn with
# p 0.5 except rotate, always counter-clockwise, here angle < 0 as mmpretrain rotates clockwise), then Cutout of
# one 16-px hole filled with 0 (the official hole is cut after ToTensor, before Normalize: black).
cifar_pad_val = 128
cifar10_autoaugment_policies = [
    [dict(type='Invert', prob=0.1), dict(type='Contrast', magnitude=0.9 * 6 / 9, prob=0.2)],
    [dict(type='Rotate', angle=-30 * 2 / 9, prob=0.7, random_negative_prob=0.0),
     dict(type='Translate', magnitude=150 / 331, prob=0.3, direction='horizontal')],
    [dict(type='Sharpness', magnitude=0.9 * 1 / 9, prob=0.8), dict(type='Sharpness', magnitude=0.9 * 3 / 9, prob=0.9)],
    [dict(type='Shear', magnitude=0.3 * 8 / 9, prob=0.5, direction='vertical'),
     dict(type='Translate', magnitude=150 / 331, prob=0.7, direction='vertical')],
    [dict(type='AutoContrast', prob=0.5), dict(type='Equalize', prob=0.9)],
    [dict(type='Shear', magnitude=0.3 * 7 / 9, prob=0.2, direction='vertical'), dict(type='Posterize', bits=5, prob=0.3)],
    [dict(type='ColorTransform', magnitude=0.9 * 3 / 9, prob=0.4),
     dict(type='Brightness', magnitude=0.9 * 7 / 9, prob=0.6)],
    [dict(type='Sharpness', magnitude=0.9, prob=0.3), dict(type='Brightness', magnitude=0.9, prob=0.7)],
    [dict(type='Equalize', prob=0.6), dict(type='Equalize', prob=0.5)],
    [dict(type='Contrast', magnitude=0.9 * 7 / 9, prob=0.6), dict(type='Sharpness', magnitude=0.9 * 5 / 9, prob=0.6)],
    [dict(type='ColorTransform', magnitude=0.9 * 7 / 9, prob=0.7),
     dict(type='Translate', magnitude=150 / 331 * 8 / 9, prob=0.5, direction='horizontal')],
    [dict(type='Equalize', prob=0.3), dict(type='AutoContrast', prob=0.4)],
    [dict(type='Translate', magnitude=150 / 331 * 3 / 9, prob=0.4, direction='vertical'),
     dict(type='Sharpness', magnitude=0.9 * 6 / 9, prob=0.2)],
    [dict(type='Brightness', magnitude=0.9 * 6 / 9, prob=0.9), dict(type='ColorTransform', magnitude=0.9 * 8 / 9,
                                                                       prob=0.2)],
    [dict(type='Solarize', thr=256 * 7 / 9, prob=0.5), dict(type='Invert', prob=0.0)],
    [dict(type='Equalize', prob=0.2), dict(type='AutoContrast', prob=0.6)],
    [dict(type='Equalize', prob=0.2), dict(type='Equalize', prob=0.6)],
    [dict(type='ColorTransform', magnitude=0.9, prob=0.9), dict(type='Equalize', prob=0.6)],
    [dict(type='AutoContrast', prob=0.8), dict(type='Solarize', thr=256 * 1 / 9, prob=0.2)],
    [dict(type='Brightness', magnitude=0.9 * 3 / 9, prob=0.1), dict(type='ColorTransform', magnitude=0.0, prob=0.7)],
    [dict(type='Solarize', thr=256 * 4 / 9, prob=0.4), dict(type='AutoContrast', prob=0.9)],
    [dict(type='Translate', magnitude=150 / 331, prob=0.9, direction='vertical'),
     dict(type='Translate', magnitude=150 / 331, prob=0.7, direction='vertical')],
    [dict(type='AutoContrast', prob=0.9), dict(type='Solarize', thr=256 * 6 / 9, prob=0.8)],
    [dict(type='Equalize', prob=0.8), dict(type='Invert', prob=0.1)],
    [dict(type='Translate', magnitude=150 / 331, prob=0.7, direction='vertical'), dict(type='AutoContrast', prob=0.9)],
]
cifar_regular_view = [
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='AutoAugment', policies=cifar10_autoaugment_policies, hparams=dict(pad_val=cifar_pad_val)),
    dict(type='Cutout', shape=16, pad_val=0, prob=1.0),
]
# `augmentation_sim_cifar`: crop 32 with scale (0.2, 1), flip, jitter (0.4, 0.4, 0.4, hue 0.1) with p 0.8, grayscale
# 0.2, blur 0.5. Deviation: no hue jitter. mmcv's adjust_hue (mmcv 2.x) computes np.uint8(hue * 255), which raises an
# OverflowError under numpy 2 for every negative hue, i.e. on about half the jittered images.
cifar_sim_view = [
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.2, 1.0), backend='pillow'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomApply', transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4)],
         prob=0.8),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True, channel_weights=(0.2989, 0.587, 0.114)),  # RGB
    paco_blur,
]
