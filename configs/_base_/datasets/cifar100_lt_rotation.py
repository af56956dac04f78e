# CIFAR-100-LT (./cifar100_lt.py) with the RIDE-lineage training augmentation (RIDE's, SADE's, TLC's and BalPoE's
# data_loader/cifar_data_loaders.py): crop 32 pad 4, flip, then torchvision's RandomRotation(15).
_base_ = './cifar100_lt.py'
train_pipeline = [
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='NumpyToPIL', to_rgb=False),  # the archive is RGB already
    dict(type='torchvision/RandomRotation', degrees=15),
    dict(type='PILToNumpy', to_bgr=False),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
