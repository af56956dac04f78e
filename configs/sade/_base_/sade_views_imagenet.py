# SADE's test-time aggregation on ImageNet-LT (Vanint/SADE-AgnosticLT test_training_imagenet.py and
# configs/test_time_imagenet_lt_resnext50_sade.json): two views of each unlabelled test image by the MoCo-v2
# augmentation (RandomResizedCrop 224 of scale 0.2-1, ColorJitter(0.4, 0.4, 0.4, 0.1) with p 0.8, grayscale p 0.2,
# Gaussian blur sigma 0.1-2 with p 0.5, flip; mmpretrain's MultiView, as its mocov2 configs), shuffled batches of 128,
# SGD lr 0.025, momentum 0.9, nesterov, weight decay 5e-4, 5 epochs, stop once a weight rounds below 0.05.
# Read by tools/sade_aggregate.py and tools/analysis/test_agnostic.py --aggregate (ltmm.engine.sade_aggregation).
view_pipeline = [
    dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.2, 1.0), backend='pillow'),
    dict(type='RandomApply', transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4,
                                              hue=0.1)], prob=0.8),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True, channel_weights=(0.114, 0.587, 0.2989)),  # BGR
    dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=0.5),
    dict(type='RandomFlip', prob=0.5),
]
test_time_aggregation = dict(
    pipeline=[dict(type='LoadImageFromFile'), dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
              dict(type='PackInputs')],
    batch_size=128, num_workers=8, epochs=5, min_weight=0.05,
    optimizer=dict(type='SGD', lr=0.025, momentum=0.9, nesterov=True, weight_decay=5e-4))
